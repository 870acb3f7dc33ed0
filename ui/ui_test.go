package ui

import (
	"bytes"
	"encoding/json"
	stdhtml "html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"playground/spec"
	"playground/wasm/protocol"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
	"github.com/vugu/vugu/staticrender"
)

// fakeHost records what the page asks of the browser.
type fakeHost struct {
	sent    []protocol.Command
	query   string
	store   map[string]string
	painted map[string][3]int // canvas → w, h, bytes
	paints  int               // calls of Paint
	copied  string
	options map[string]string // the URL's options (SetOption)
	bytes   []byte            // of the last SendBytes
}

func newFakeHost() *fakeHost {
	return &fakeHost{store: map[string]string{}, painted: map[string][3]int{}}
}

func (h *fakeHost) Send(c protocol.Command) { h.sent = append(h.sent, c) }
func (h *fakeHost) SetQuery(q string)       { h.query = q }
func (h *fakeHost) SetOption(k, v string) {
	if h.options == nil {
		h.options = map[string]string{}
	}
	h.options[k] = v
}
func (h *fakeHost) SendFile(c protocol.Command, _ js.Value) {
	h.sent = append(h.sent, c)
}
func (h *fakeHost) SendBytes(c protocol.Command, b []byte) {
	h.sent = append(h.sent, c)
	h.bytes = b
}
func (h *fakeHost) Load(k string) string { return h.store[k] }
func (h *fakeHost) Save(k, v string)     { h.store[k] = v }
func (h *fakeHost) Link(q string) string { return "http://x/?" + q }
func (h *fakeHost) Copy(text string)     { h.copied = text }
func (h *fakeHost) Paint(id string, w, hh int, rgba []byte) {
	h.painted[id] = [3]int{w, hh, len(rgba)}
	h.paints++
}

func (h *fakeHost) last() protocol.Command { return h.sent[len(h.sent)-1] }

func render(t *testing.T, b vugu.Builder) string {
	t.Helper()
	env, err := vugu.NewBuildEnv()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := staticrender.New(&buf).Render(env.RunBuild(b)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// testid returns the text of the first element with data-testid id.
func testid(t *testing.T, html, id string) string {
	t.Helper()
	re := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`)
	m := re.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no element with data-testid %q in the page", id)
	}
	return m[1]
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// running returns an app that runs circle-sgd at step 1200 with two
// checkpoints.
func running(t *testing.T) (*App, *fakeHost) {
	h := newFakeHost()
	a := NewApp(h)
	now := t0
	a.Now = func() time.Time { return now }
	sp, _ := spec.Preset("circle-sgd")
	a.Apply(protocol.Event{Type: protocol.EvReady, Presets: spec.PresetNames()}, nil)
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: "running", Run: "circle-sgd-1", Name: "circle-sgd", Spec: sp.JSON(), Step: 1000, Owner: true,
		Autosave: protocol.Autosave{EveryMillis: 1000, Keep: 5, MilestoneMs: 60000},
	}}, nil)
	if c := h.last(); c.Type != protocol.CmdList {
		t.Fatalf("a new run asks for the list, sent %+v", c)
	}
	a.Apply(protocol.Event{Type: protocol.EvRuns, Runs: []protocol.RunInfo{
		{Run: "circle-sgd-1", Name: "circle-sgd", Head: "000000000500-aaaaaaaa", Checkpoints: []protocol.Checkpoint{
			{Run: "circle-sgd-1", ID: "000000000000-bbbbbbbb", Step: 0, Kind: "milestone", Size: 3000},
			{Run: "circle-sgd-1", ID: "000000000500-aaaaaaaa", Step: 500, Kind: "autosave", Size: 3000},
		}},
		{Run: "child-2", Name: "circle-sgd", ParentRun: "circle-sgd-1", Parent: "000000000500-aaaaaaaa", Checkpoints: []protocol.Checkpoint{
			{Run: "child-2", ID: "000000000500-cccccccc", Step: 500, Kind: "milestone", ParentRun: "circle-sgd-1", Parent: "000000000500-aaaaaaaa"},
		}},
	}}, nil)
	for i, l := range []float64{0.69, 0.5, 0.3} {
		now = now.Add(250 * time.Millisecond)
		a.Apply(protocol.Event{Type: protocol.EvProgress, Progress: &protocol.Progress{
			Run: "circle-sgd-1", Step: uint64(1000 + 100*i), Loss: protocol.Float(l), TestLoss: protocol.Float(l + 0.01),
			EvalStep: uint64(1000 + 100*i), Accuracy: protocol.Float(0.9), StepsPerSec: 20000,
			Curve: [][2]float64{{float64(950 + 100*i), l + 0.02}, {float64(1000 + 100*i), l}},
			Points: []protocol.CurvePoint{
				{Step: uint64(950 + 100*i), Train: protocol.Float(l + 0.02), Test: protocol.Float(l + 0.03)},
				{Step: uint64(1000 + 100*i), Train: protocol.Float(l), Test: protocol.Float(l + 0.01)},
			},
		}}, nil)
	}
	now = now.Add(time.Second)
	a.Apply(protocol.Event{Type: protocol.EvSaved, Saved: &protocol.Saved{Checkpoint: protocol.Checkpoint{
		Run: "circle-sgd-1", ID: "000000001200-dddddddd", Step: 1200, Kind: "autosave", Size: 3100,
	}}}, nil)
	now = now.Add(3 * time.Second)
	return a, h
}

func TestPageRendersStatically(t *testing.T) {
	a, _ := running(t)
	// The timeline's rows and runs are painted at the source.
	html := render(t, &Page{App: a}) + string(a.AppendCheckpointRows(nil)) + string(a.AppendRunRows(nil))
	for id, want := range map[string]string{
		"step":      "1200",
		"phase":     "running",
		"loss":      "0.3000",
		"test-loss": "0.3100",
		"accuracy":  "90.0%",
		"run":       "circle-sgd · circle-sgd-1",
		"last-save": "1200",
		"saves":     "1",
		"speed":     "20,000",
		"status":    "saved 3 s ago at step 1,200",
	} {
		if got := testid(t, html, id); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	for _, want := range []string{
		`data-testid="pause"`, `data-testid="resume"`, `data-testid="dataset"`, `data-testid="layer-add"`,
		`data-testid="lr"`, `data-testid="scrub"`, `data-testid="compare-start"`, `data-testid="heatmap"`,
		`data-testid="schedule-plot"`, `data-testid="spec-json"`, `data-testid="upload"`,
		`<option selected="selected" value="circle">circle</option>`,
		`forked from circle-sgd-1 at step 500`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if n := strings.Count(html, `data-testid="ckpt-row"`); n != 3 {
		t.Errorf("%d checkpoint rows, want 3", n)
	}
	// The loss chart is painted at the source (ChartSVG), not by vugu.
	if n := strings.Count(html+a.ChartSVG(), `data-testid="ckpt-mark"`); n != 3 {
		t.Errorf("%d checkpoint marks on the chart, want 3", n)
	}
	// Newest first, and the head marked.
	if i, j := strings.Index(html, `data-id="000000001200-dddddddd"`), strings.Index(html, `data-id="000000000500-aaaaaaaa"`); i < 0 || j < i {
		t.Error("checkpoint rows are not newest first")
	}
	if !regexp.MustCompile(`<polyline class="curve" data-testid="curve-train" points="[0-9., ]+" stroke="#f28c28"`).MatchString(html + a.ChartSVG()) {
		t.Error("no training curve in the loss chart")
	}
	// Running: the pause button shows, play is hidden.
	if !regexp.MustCompile(`data-testid="resume"[^>]*hidden`).MatchString(html) {
		t.Error("play is not hidden while running")
	}
}

func TestEachComponentRenders(t *testing.T) {
	a, _ := running(t)
	for name, b := range map[string]vugu.Builder{
		"controls": &Controls{App: a}, "data": &DataPanel{App: a}, "network": &NetworkPanel{App: a},
		"training": &TrainingPanel{App: a}, "output": &OutputPanel{App: a}, "timeline": &Timeline{App: a},
		"compare": &ComparePanel{App: a}, "log": &LogPanel{App: a}, "sync": &SyncPanel{App: a},
	} {
		if html := render(t, b); len(html) < 100 {
			t.Errorf("%s renders %q", name, html)
		}
	}
	// Before the worker is ready.
	html := render(t, &Page{App: NewApp(nil)})
	if got := testid(t, html, "status"); got != "Loading the run…" {
		t.Errorf("status before ready: %q", got)
	}
}

func TestEditingSettings(t *testing.T) {
	a, h := running(t)
	a.SetDataset("spiral")
	a.AddLayer()
	a.SetField("lr", "0.1")
	if a.DraftErr != "" {
		t.Fatal(a.DraftErr)
	}
	d := a.Draft
	if d.Dataset.Kind != "spiral" || len(d.Model.Layers) != 4 || d.Optimizer.LR != 0.1 || d.Name != "custom" {
		t.Fatalf("draft %s", d.JSON())
	}
	q, _ := url.ParseQuery(h.query)
	if back, err := protocol.SpecFromQuery(q); err != nil || string(back.JSON()) != string(d.JSON()) {
		t.Errorf("the URL does not carry the draft: %v\n%s\n%s", err, back.JSON(), d.JSON())
	}
	if !a.Edited() || a.Forkable() {
		t.Error("a new dataset and layer are an edit that cannot fork")
	}
	html := render(t, &Page{App: a})
	if !strings.Contains(html, `data-testid="edited"`) {
		t.Error("the page does not say the settings changed")
	}
	a.Play()
	if c := h.last(); c.Type != protocol.CmdStart || !strings.Contains(string(c.Spec), `"kind":"spiral"`) {
		t.Errorf("play with changed settings sent %+v", c)
	}

	// A learning rate alone can continue a checkpoint.
	a, h = running(t)
	a.SetField("lr", "0.01")
	if !a.Forkable() {
		t.Error("a new learning rate cannot fork")
	}
	a.Fork("circle-sgd-1", "000000000500-aaaaaaaa")
	if c := h.last(); c.Type != protocol.CmdFork || c.ID != "000000000500-aaaaaaaa" || !strings.Contains(string(c.Spec), `"lr":0.01`) {
		t.Errorf("fork sent %+v", c)
	}

	// Invalid settings are reported, not sent.
	a.SetField("batch", "100000")
	if a.DraftErr == "" {
		t.Error("batch 100000 accepted")
	}
	n := len(h.sent)
	a.Play()
	if len(h.sent) != n {
		t.Error("play sent an invalid spec")
	}
	if got := testid(t, render(t, &Page{App: a}), "draft-error"); !strings.Contains(got, "batch size") {
		t.Errorf("draft error shows %q", got)
	}
	a.SetDataset("digits")
	if a.TwoD() || a.Draft.Model.Layers[len(a.Draft.Model.Layers)-1].Units != 10 || a.DraftErr != "" {
		t.Errorf("digits: %s %s", a.Draft.JSON(), a.DraftErr)
	}
}

func TestTimeTravel(t *testing.T) {
	a, h := running(t)
	a.ScrubTo(700)
	c := h.last()
	if c.Type != protocol.CmdScrub || c.At != 700 || c.Run != "circle-sgd-1" {
		t.Fatalf("scrub sent %+v", c)
	}
	// Dragging on while the worker replays sends nothing more...
	a.ScrubTo(720)
	a.ScrubTo(730)
	if h.last().Seq != c.Seq {
		t.Fatal("a second scrub went out while one was in flight")
	}
	// ...until the answer, then the newest target.
	a.Apply(protocol.Event{Type: protocol.EvScrub, Seq: c.Seq, Scrub: &protocol.Scrub{Run: "circle-sgd-1", At: 700, Step: 600, From: 500, FromRun: "circle-sgd-1"}}, nil)
	if got := testid(t, render(t, &OutputPanel{App: a}), "scrub-status"); !strings.Contains(got, "Recomputing step 730") {
		t.Errorf("interim: %q", got)
	}
	grid := make([]byte, 4)
	a.Apply(protocol.Event{Type: protocol.EvScrub, Seq: c.Seq,
		Scrub: &protocol.Scrub{Run: "circle-sgd-1", At: 700, Step: 700, From: 500, FromRun: "circle-sgd-1", Done: true, Fingerprint: "ab", Loss: protocol.Float(0.4)},
		View:  &protocol.View{Run: "circle-sgd-1", Step: 700, Kind: protocol.ViewGrid, W: 2, H: 2, Hi: 1}}, grid)
	if c2 := h.last(); c2.Type != protocol.CmdScrub || c2.At != 730 {
		t.Fatalf("after the answer, sent %+v", c2)
	}
	a.Apply(protocol.Event{Type: protocol.EvScrub, Scrub: &protocol.Scrub{Run: "circle-sgd-1", At: 730, Step: 730, From: 500, FromRun: "circle-sgd-1", Done: true, Fingerprint: "cd", Loss: protocol.Float(0.39)},
		View: &protocol.View{Run: "circle-sgd-1", Step: 730, Kind: protocol.ViewGrid, W: 2, H: 2, Hi: 1}}, grid)
	html := render(t, &OutputPanel{App: a})
	if testid(t, html, "scrub-fingerprint") != "cd" || testid(t, html, "scrub-loss") != "0.3900" {
		t.Errorf("scrub result not shown:\n%s", html)
	}
	if !strings.Contains(html+a.ChartSVG(), `data-testid="scrub-cursor"`) {
		t.Error("no cursor on the chart")
	}
	a.Paint()
	a.ScrubLive()
	if a.ScrubView() != a.Live {
		t.Error("back to live still shows the past")
	}
}

func TestCompare(t *testing.T) {
	a, h := running(t)
	a.SetCompare("values", "0.01, 0.03, 0.1")
	a.SetCompare("steps", "200")
	a.Select("000000000500-aaaaaaaa")
	a.StartCompare()
	if a.Compare.Err != "" {
		t.Fatal(a.Compare.Err)
	}
	// One command: the worker forks and trains the children in turn.
	cmd := h.last()
	p := cmd.Compare
	if cmd.Type != protocol.CmdCompare || p == nil || p.Base.ID != "000000000500-aaaaaaaa" || p.Steps != 200 || len(p.Children) != 3 {
		t.Fatalf("sent %+v", cmd)
	}
	sent := len(h.sent)
	for i, lr := range []string{"0.01", "0.03", "0.1"} {
		if !strings.Contains(string(p.Children[i].Spec), `"lr":`+lr) {
			t.Fatalf("child %d: spec %s", i, p.Children[i].Spec)
		}
		run := "kid-" + lr
		p.Children[i].Run, p.Children[i].From, p.Children[i].Target = run, 500, 700
		a.Apply(protocol.Event{Type: protocol.EvCompare, Seq: cmd.Seq, Compare: p}, nil)
		sp, _ := spec.ParseSpec(p.Children[i].Spec)
		a.Apply(protocol.Event{Type: protocol.EvStatus, Seq: cmd.Seq, Status: &protocol.Status{Phase: "running", Run: run, Spec: sp.JSON(), Step: 500, Owner: true}}, nil)
		a.Apply(protocol.Event{Type: protocol.EvProgress, Progress: &protocol.Progress{Run: run, Step: 700, Curve: [][2]float64{{600, 0.5}, {700, 0.4}}}}, nil)
		a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "paused", Run: run, Spec: sp.JSON(), Step: 700, Owner: true}}, nil)
		p.Children[i].Done = true
		p.Done = i == 2
		a.Apply(protocol.Event{Type: protocol.EvCompare, Seq: cmd.Seq, Compare: p}, nil)
		if !a.Compare.Active != p.Done {
			t.Fatalf("child %d: active %v", i, a.Compare.Active)
		}
	}
	for _, c := range h.sent[sent:] {
		if c.Type != protocol.CmdList {
			t.Errorf("the page sent %+v during the comparison", c)
		}
	}
	html := render(t, &ComparePanel{App: a})
	if n := strings.Count(html, `data-testid="compare-curve"`); n != 3 {
		t.Errorf("%d curves, want 3", n)
	}
	// After a reload, the worker's report brings the curves back.
	b := NewApp(h)
	b.Apply(protocol.Event{Type: protocol.EvCompare, Compare: p}, nil)
	if n := strings.Count(render(t, &ComparePanel{App: b}), `points="`); n != 3 || b.ChildLoss("kid-0.01") != "0.4000" {
		t.Errorf("after a reload: %d curves, child loss %s", n, b.ChildLoss("kid-0.01"))
	}
}

func TestSeriesStaysBounded(t *testing.T) {
	var s Series
	for i := 0; i < 10000; i++ {
		s.Add(uint64(i), float64(i))
	}
	if len(s.Pts) > maxPts || s.Pts[len(s.Pts)-1].Step != 9999 {
		t.Errorf("%d points, last %+v", len(s.Pts), s.Pts[len(s.Pts)-1])
	}
	s.Add(5000, 1) // a rewound run drops what came after
	if s.Pts[len(s.Pts)-1] != (Pt{5000, 1}) || s.Pts[len(s.Pts)-2].Step >= 5000 {
		t.Error("rewind kept later points")
	}
}

func TestCurvesSurviveReload(t *testing.T) {
	a, h := running(t)
	a.storeCurves("circle-sgd-1", true)
	b := NewApp(h)
	b.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "running", Run: "circle-sgd-1", Owner: true}}, nil)
	if got, want := len(b.CurvesOf("circle-sgd-1").Train.Pts), len(a.CurvesOf("circle-sgd-1").Train.Pts); got != want || got == 0 {
		t.Errorf("reloaded %d points, want %d", got, want)
	}
	c := NewApp(h) // a later page load
	c.Apply(protocol.Event{Type: protocol.EvRuns, Runs: []protocol.RunInfo{}}, nil)
	if h.store[curveKey+"circle-sgd-1"] != "" {
		t.Error("curves of a deleted run kept")
	}
}

func TestPictures(t *testing.T) {
	a, h := running(t)
	a.Apply(protocol.Event{Type: protocol.EvView, View: &protocol.View{Run: "circle-sgd-1", Step: 1200, Kind: protocol.ViewGrid, W: 3, H: 2, Hi: 1}}, []byte{0, 127, 255, 0, 127, 255})
	a.Paint()
	if h.painted["heatmap"] != [3]int{HeatSize, HeatSize, 4 * HeatSize * HeatSize} || h.painted["points"][0] != PointsSize {
		t.Errorf("painted %v", h.painted)
	}
	rgba := a.Live.GridRGBA()
	left, right := rgba[:4], rgba[4*(HeatSize-1):4*HeatSize]
	if left[0] < 200 || left[2] > 170 || right[0] > 150 || right[2] < 180 {
		t.Errorf("class 0 should be orange, class 1 blue: %v %v", left, right)
	}
	// A view whose bytes do not match its size is dropped.
	if NewViewImage(&protocol.View{Kind: protocol.ViewGrid, W: 3, H: 3}, []byte{1}) != nil {
		t.Error("short grid accepted")
	}
	d := NewViewImage(&protocol.View{Kind: protocol.ViewDigits, Side: 2, Labels: []int{1, 2}, Predicted: []int{1, 3}}, make([]byte, 8))
	if px := d.DigitsRGBA(); len(px) != 4*DigitsW*DigitSide || px[3] != 255 || !d.Correct(0) || d.Correct(1) {
		t.Errorf("digits strip of %d bytes", len(px))
	}
}

func TestScheduleAndDiagram(t *testing.T) {
	a := NewApp(nil)
	a.UsePreset("spiral-adam")
	pts, last := a.ScheduleCurve(200, 50)
	if strings.Count(pts, ",") != 81 || last != 24000 {
		t.Errorf("schedule plot: %d points to %d", strings.Count(pts, ","), last)
	}
	dg := a.NetDiagram()
	if len(dg.Nodes) != 7+8+8+8+1 || !strings.HasPrefix(dg.Edges, "M") {
		t.Errorf("diagram: %d nodes", len(dg.Nodes))
	}
	var sp spec.Spec
	if err := json.Unmarshal([]byte(a.SpecJSON()), &sp); err != nil || sp.Name != "spiral-adam" {
		t.Errorf("spec JSON: %v", err)
	}
}

// A list made before later saves and deletions does not undo them.
func TestStaleList(t *testing.T) {
	a, _ := running(t)
	a.Apply(protocol.Event{Type: protocol.EvSaved, Saved: &protocol.Saved{
		Checkpoint: protocol.Checkpoint{Run: "circle-sgd-1", ID: "000000001300-eeeeeeee", Step: 1300, Kind: "autosave"},
		Deleted:    []string{"000000000500-aaaaaaaa"},
	}}, nil)
	a.Apply(protocol.Event{Type: protocol.EvRuns, Runs: []protocol.RunInfo{{Run: "circle-sgd-1", Checkpoints: []protocol.Checkpoint{
		{Run: "circle-sgd-1", ID: "000000000000-bbbbbbbb", Step: 0, Kind: "milestone"},
		{Run: "circle-sgd-1", ID: "000000000500-aaaaaaaa", Step: 500, Kind: "autosave"},
		{Run: "circle-sgd-1", ID: "000000001200-dddddddd", Step: 1200, Kind: "autosave"},
	}}}}, nil)
	var ids []string
	for _, c := range a.Checkpoints() {
		ids = append(ids, c.ID[:12])
	}
	if strings.Join(ids, " ") != "000000001300 000000001200 000000000000" {
		t.Errorf("checkpoints after a stale list: %v", ids)
	}
}

func TestServerSync(t *testing.T) {
	h := newFakeHost()
	h.store["pg-token"] = "s3cret"
	a := NewApp(h)
	a.Now = func() time.Time { return t0 }
	// Loading: the server's runs are not asked for yet.
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "loading"}}, nil)
	if len(h.sent) != 0 {
		t.Fatalf("sent %+v while loading", h.sent)
	}
	sp, _ := spec.Preset("circle-sgd")
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: "running", Run: "circle-sgd-1", Name: "circle-sgd", Spec: sp.JSON(), Step: 1000, Owner: true,
		AutoPush: true, Server: "http://127.0.0.1:8080/",
	}}, nil)
	var lists int
	for _, c := range h.sent {
		if c.Type == protocol.CmdServerRuns {
			lists++
		}
	}
	if lists != 1 {
		t.Fatalf("the first status sent %d server-runs commands, want 1: %+v", lists, h.sent)
	}
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "paused", Run: "circle-sgd-1", Step: 1100, Owner: true, AutoPush: true}}, nil)
	if c := h.last(); c.Type == protocol.CmdServerRuns {
		t.Error("a later status asked for the server's runs again")
	}
	if !a.AutoPush {
		t.Error("the status' auto-push is not shown")
	}

	html := render(t, &Page{App: a})
	for _, id := range []string{"push", "pull", "autopush", "server-token", "sync-status", "server-refresh", "sync-url"} {
		if !strings.Contains(html, `data-testid="`+id+`"`) {
			t.Errorf("the page lacks %s", id)
		}
	}
	if regexp.MustCompile(`data-testid="push"[^>]*disabled`).MatchString(html) || regexp.MustCompile(`data-testid="pull"[^>]*disabled`).MatchString(html) {
		t.Error("push or pull disabled in the tab that trains the run")
	}
	if got := testid(t, html, "sync-url"); got != "http://127.0.0.1:8080/api/runs/circle-sgd-1" {
		t.Errorf("run URL %q", got)
	}
	if got := testid(t, html, "sync-status"); got != "Nothing synced from this tab yet." {
		t.Errorf("sync status before any sync: %q", got)
	}
	if strings.Contains(html, `data-testid="server-empty"`) || strings.Contains(html, `data-testid="server-run"`) {
		t.Error("the server's runs are shown before any answer")
	}
	if a.Text("server-token", a.Token) != "s3cret" {
		t.Errorf("token field %q, want the stored one", a.Token)
	}

	// Push: the active run.
	click(t, &SyncPanel{App: a}, "push", "")
	push := h.last()
	if push.Type != protocol.CmdPush || push.Run != "" {
		t.Fatalf("push sent %+v", push)
	}
	if got := testid(t, render(t, &SyncPanel{App: a}), "sync-status"); got != "Pushing run circle-sgd-1…" {
		t.Errorf("while pushing: %q", got)
	}
	a.Apply(protocol.Event{Type: protocol.EvSynced, Seq: push.Seq, Synced: &protocol.Synced{
		Op: protocol.SyncPush, Run: "circle-sgd-1", Head: "000000001100-aaaaaaaa", Step: 1100, Sent: 3, Had: 1,
		Bytes: 1258291, Millis: 40.4, URL: "http://127.0.0.1:8080/api/runs/circle-sgd-1",
	}}, nil)
	want := "Pushed run circle-sgd-1: 3 checkpoints (1.2 MB) in 40 ms; the server's head is at step 1,100."
	if got := stdhtml.UnescapeString(testid(t, render(t, &SyncPanel{App: a}), "sync-status")); got != want {
		t.Errorf("after a push: %q, want %q", got, want)
	}
	if a.Log[0].Text != want {
		t.Errorf("the log says %q", a.Log[0].Text)
	}
	if c := h.last(); c.Type != protocol.CmdServerRuns {
		t.Errorf("a push did not refresh the server's runs: sent %+v", c)
	}

	// The server's runs.
	a.Apply(protocol.Event{Type: protocol.EvServerRuns, Seq: h.last().Seq, ServerRuns: []protocol.ServerRun{
		{Run: "circle-sgd-1", Head: "000000001100-aaaaaaaa", Step: 1100, Checkpoints: 4, URL: "http://127.0.0.1:8080/api/runs/circle-sgd-1"},
		{Run: "spiral-9", Head: "000000005000-bbbbbbbb", Step: 5000, Checkpoints: 1, URL: "http://127.0.0.1:8080/api/runs/spiral-9"},
	}}, nil)
	html = render(t, &SyncPanel{App: a})
	rows := regexp.MustCompile(`<li [^>]*data-testid="server-run"[^>]*>`).FindAllString(html, -1)
	if len(rows) != 2 || !strings.Contains(rows[0], `data-run="circle-sgd-1"`) || !strings.Contains(rows[1], `data-run="spiral-9"`) {
		t.Fatalf("server rows %q", rows)
	}
	for _, want := range []string{"step 5,000", "1 checkpoint<", "4 checkpoints", `data-testid="server-pull"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the server's runs lack %q", want)
		}
	}

	// Auto-push: the status line only, and the listed head follows.
	n := len(a.Log)
	a.Apply(protocol.Event{Type: protocol.EvSynced, Synced: &protocol.Synced{
		Op: protocol.SyncAutoPush, Run: "circle-sgd-1", Head: "000000001234-cccccccc", Step: 1234, Sent: 1,
	}}, nil)
	if got := a.SyncLine(); got != "Auto-pushed step 1,234 of run circle-sgd-1." {
		t.Errorf("after an auto-push: %q", got)
	}
	if len(a.Log) != n {
		t.Errorf("an auto-push was logged: %q", a.Log[0].Text)
	}
	if r := a.ServerRuns[0]; r.Step != 1234 || r.Checkpoints != 5 {
		t.Errorf("listed server run after an auto-push: %+v", r)
	}

	// Toggling auto-push.
	a.SetAutoPush(false)
	c := h.last()
	if c.Type != protocol.CmdSettings || c.Sync == nil || c.Sync.AutoPush == nil || *c.Sync.AutoPush || h.store["pg-autopush"] != "0" {
		t.Fatalf("auto-push off sent %+v (stored %q)", c, h.store["pg-autopush"])
	}
	a.SetAutoPush(true)
	if c := h.last(); c.Sync == nil || c.Sync.AutoPush == nil || !*c.Sync.AutoPush || h.store["pg-autopush"] != "1" {
		t.Fatalf("auto-push on sent %+v (stored %q)", c, h.store["pg-autopush"])
	}

	// The token.
	a.Typing("server-token", "ne")
	a.SetToken("new-token")
	if c := h.last(); c.Type != protocol.CmdSettings || c.Sync == nil || c.Sync.Token == nil || *c.Sync.Token != "new-token" || c.Sync.AutoPush != nil {
		t.Fatalf("token sent %+v", c)
	}
	if h.store["pg-token"] != "new-token" || a.Text("server-token", a.Token) != "new-token" {
		t.Errorf("token stored %q, field %q", h.store["pg-token"], a.Text("server-token", a.Token))
	}

	// Pull a listed run: the row's button carries its run.
	click(t, &SyncPanel{App: a}, "server-pull", "spiral-9")
	pull := h.last()
	if pull.Type != protocol.CmdPull || pull.Run != "spiral-9" {
		t.Fatalf("the row's pull sent %+v", pull)
	}
	a.Apply(protocol.Event{Type: protocol.EvSynced, Seq: pull.Seq, Synced: &protocol.Synced{
		Op: protocol.SyncPull, Run: "spiral-9", Head: "000000005000-bbbbbbbb", Step: 5000, Sent: 1, Bytes: 2936013, Millis: 120,
	}}, nil)
	if got, want := a.SyncLine(), "Pulled run spiral-9 at step 5,000 (2.8 MB, 120 ms)."; got != want {
		t.Errorf("after a pull: %q, want %q", got, want)
	}
	if c := h.sent[len(h.sent)-2]; c.Type != protocol.CmdServerRuns {
		t.Errorf("a pull did not refresh the server's runs: sent %+v", c)
	}
	if c := h.last(); c.Type != protocol.CmdList {
		t.Errorf("a pull did not refresh the local runs: sent %+v", c)
	}

	// Pull this run; the local copy is ahead.
	click(t, &SyncPanel{App: a}, "pull", "")
	if c := h.last(); c.Type != protocol.CmdPull || c.Run != "circle-sgd-1" {
		t.Fatalf("pull this run sent %+v", c)
	}
	a.Apply(protocol.Event{Type: protocol.EvSynced, Seq: h.last().Seq, Synced: &protocol.Synced{
		Op: protocol.SyncPull, Run: "circle-sgd-1", Step: 5000, Kept: true, LocalStep: 7000,
	}}, nil)
	want = "Pulled run circle-sgd-1: your copy (step 7,000) is ahead of the server's (step 5,000) and was kept; push to update the server."
	if got := a.SyncLine(); got != want {
		t.Errorf("after a kept pull: %q, want %q", got, want)
	}

	// A failed push says so.
	a.Push()
	a.Apply(protocol.Event{Type: protocol.EvError, Seq: h.last().Seq, Message: "push: the server's head moved"}, nil)
	if got := a.SyncLine(); got != "Push failed: push: the server's head moved" || !a.StatusWarn() {
		t.Errorf("after a failed push: %q (warn %v)", got, a.StatusWarn())
	}

	// An empty server.
	a.RefreshServer()
	a.Apply(protocol.Event{Type: protocol.EvServerRuns, Seq: h.last().Seq}, nil)
	if got := testid(t, render(t, &SyncPanel{App: a}), "server-empty"); got != "No runs on the server yet." {
		t.Errorf("empty server: %q", got)
	}
}

// The listing the page asks for by itself may fail (a page served without
// the API): that goes to the log and the panel, not the status line.
func TestServerListFailsQuietly(t *testing.T) {
	h := newFakeHost()
	a := NewApp(h)
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "idle"}}, nil)
	c := h.last()
	if c.Type != protocol.CmdServerRuns {
		t.Fatalf("the first status sent %+v", c)
	}
	a.Apply(protocol.Event{Type: protocol.EvServerRuns, Seq: c.Seq, Message: "cannot list the server's runs: 404 Not Found"}, nil)
	if a.Warning != "" || a.StatusWarn() || len(a.Log) != 1 || a.Log[0].Class != "warn" {
		t.Errorf("warning %q, log %+v", a.Warning, a.Log)
	}
	html := render(t, &SyncPanel{App: a})
	if got := testid(t, html, "server-error"); !strings.Contains(got, "404 Not Found") {
		t.Errorf("panel error %q", got)
	}
	if strings.Contains(html, `data-testid="server-empty"`) {
		t.Error("a failed listing shows an empty server")
	}
	// Refresh asked for by the user: a failure is a warning.
	click(t, &SyncPanel{App: a}, "server-refresh", "")
	c = h.last()
	if c.Type != protocol.CmdServerRuns {
		t.Fatalf("refresh sent %+v", c)
	}
	a.Apply(protocol.Event{Type: protocol.EvServerRuns, Seq: c.Seq, Message: "cannot list the server's runs: 401 Unauthorized"}, nil)
	if !a.StatusWarn() || !strings.Contains(a.StatusLine(), "401") {
		t.Errorf("status line %q", a.StatusLine())
	}
}

// click calls the click handler that vugu registered for the element
// with data-testid id (inside the element with data-run run, if run is
// not empty), as a click in the page would.
func click(t *testing.T, b vugu.Builder, id, run string) {
	t.Helper()
	env, err := vugu.NewBuildEnv()
	if err != nil {
		t.Fatal(err)
	}
	res := env.RunBuild(b)
	var find func(n *vugu.VGNode, inRow bool) bool
	find = func(n *vugu.VGNode, inRow bool) bool {
		if v, ok := attr(n, "data-run"); ok {
			inRow = v == run
		}
		if v, _ := attr(n, "data-testid"); v == id && (inRow || run == "") {
			for _, h := range n.DOMEventHandlerSpecList {
				if h.EventType == "click" {
					h.Func(nil) // the handlers of these buttons do not read the event
					return true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if find(c, inRow) {
				return true
			}
		}
		return false
	}
	for _, n := range res.Out.Out {
		if find(n, false) {
			return
		}
	}
	t.Fatalf("no button %s (run %q) to click", id, run)
}

func attr(n *vugu.VGNode, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Text in a number field that does not parse says so and changes
// nothing: not the draft, not the link.
func TestSetFieldRefusesBadNumbers(t *testing.T) {
	h := newFakeHost()
	a := NewApp(h)
	a.SetField("noise", "0.3")
	before, query := a.Draft, h.query
	for _, tt := range []struct{ name, value string }{{"noise", "abc"}, {"noise", ""}, {"samples", "1.5"}, {"nope", "1"}} {
		a.SetField(tt.name, tt.value)
		if a.DraftErr == "" {
			t.Errorf("SetField(%s, %q): no error shown", tt.name, tt.value)
		}
		if string(a.Draft.JSON()) != string(before.JSON()) || h.query != query {
			t.Errorf("SetField(%s, %q) changed the draft or the link: noise %v, query %q", tt.name, tt.value, a.Draft.Dataset.Noise, h.query)
		}
	}
	a.SetField("noise", "0.2")
	if a.DraftErr != "" || a.Draft.Dataset.Noise != 0.2 {
		t.Errorf("a good value after bad ones: noise %v, error %q", a.Draft.Dataset.Noise, a.DraftErr)
	}
}

// What a field shows agrees with the draft and its error: text that does
// not parse stays shown with the error until mended or another change is
// taken; a field left with no change (its text back to what it was) shows
// the draft again; Revert shows the run's spec in every field.
func TestFieldTextFollowsTheDraft(t *testing.T) {
	a, _ := running(t)
	lr := a.Draft.Optimizer.LR
	a.Typing("lr", "abc")
	a.SetField("lr", "abc")
	if a.DraftErr == "" || a.Text("lr", "draft") != "abc" || a.Draft.Optimizer.LR != lr {
		t.Fatalf("unparsable: error %q, field %q, lr %v", a.DraftErr, a.Text("lr", "draft"), a.Draft.Optimizer.LR)
	}
	a.Blurred("lr")
	if a.Text("lr", "draft") != "abc" {
		t.Fatal("leaving the field dropped the text its error is about")
	}
	a.SetField("momentum", "0.5") // another change is taken: the bad text goes
	if a.DraftErr != "" || a.Text("lr", "draft") != "draft" {
		t.Fatalf("after another change: error %q, lr field %q", a.DraftErr, a.Text("lr", "draft"))
	}
	a.Typing("seed", "12")
	a.Blurred("seed") // no change fired: the seed came back to what it was
	if a.Text("seed", "draft") != "draft" {
		t.Fatal("a field left unchanged keeps its typed text")
	}
	a.Typing("batch", "7")
	a.Revert()
	if a.Text("batch", "draft") != "draft" || a.Edited() {
		t.Fatalf("after Revert the batch field shows %q", a.Text("batch", "draft"))
	}
}
