package ui

import (
	"net/url"
	"strings"
	"testing"

	"playground/wasm/protocol"
)

func TestParseLesson(t *testing.T) {
	l, err := ParseLesson("?preset=circle-sgd&hide=checkpoints,server,compare,log&lock=lr,dataset&embed=1")
	if err != nil {
		t.Fatal(err)
	}
	if !l.Embed || !l.Hide["server"] || !l.Hide["log"] || !l.Lock["lr"] || !l.Lock["dataset"] || l.Hide["lr"] {
		t.Fatalf("lesson %+v", l)
	}
	if q := l.Query(); q != "embed=1&hide=checkpoints%2Cserver%2Ccompare%2Clog&lock=dataset%2Clr" {
		t.Errorf("query %s", q)
	}
	l, err = ParseLesson("hide=lr,bogus&lock=chart&embed=yes")
	if err == nil || !strings.Contains(err.Error(), `hide: unknown name "bogus"`) || !strings.Contains(err.Error(), `lock: unknown name "chart"`) ||
		!strings.Contains(err.Error(), `embed: "yes"`) {
		t.Fatalf("error %v", err)
	}
	if !l.Hide["lr"] || l.Lock["chart"] {
		t.Errorf("the known names still apply: %+v", l)
	}
}

// FuzzParseLesson: any query parses without panicking, and what it keeps
// survives Query and ParseLesson again.
func FuzzParseLesson(f *testing.F) {
	f.Add("hide=checkpoints,server&lock=lr&embed=1")
	f.Add("hide=%zz&lock=,,,&embed=0")
	f.Add("lock=" + strings.Repeat("x", 100))
	f.Fuzz(func(t *testing.T, q string) {
		l, _ := ParseLesson(q)
		again, err := ParseLesson(l.Query())
		if err != nil {
			t.Fatalf("%q: its own query %q: %v", q, l.Query(), err)
		}
		if again.Query() != l.Query() {
			t.Fatalf("%q: %q then %q", q, l.Query(), again.Query())
		}
	})
}

// A lesson hides panels (not rendered) and locks controls (disabled).
func TestLessonHidesAndLocks(t *testing.T) {
	a, _ := running(t)
	a.Lesson, _ = ParseLesson("hide=checkpoints,server,compare,log,chart&lock=lr")
	html := render(t, &Page{App: a})
	for _, gone := range []string{`class="panel timeline"`, `class="panel sync"`, `class="panel compare"`, `class="panel logpanel"`, `data-testid="loss-chart"`} {
		if strings.Contains(html, gone) {
			t.Errorf("hidden %s is rendered", gone)
		}
	}
	i := strings.Index(html, `data-testid="lr"`)
	fs := strings.LastIndex(html[:i], "<fieldset")
	if i < 0 || fs < 0 || !strings.Contains(html[fs:i], "disabled") {
		t.Errorf("the learning rate is not in a disabled fieldset")
	}
	if !strings.Contains(html, `data-testid="dataset"`) || !strings.Contains(html, `data-testid="heatmap"`) {
		t.Error("the rest of the page is missing")
	}
}

// Play after a change that keeps the model's shape continues the state
// as a fork; a shape change starts a new run and says why; Reset sends
// the settings shown.
func TestPlayContinuesOrStartsNew(t *testing.T) {
	a, h := running(t)
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: "paused", Run: "circle-sgd-1", Name: "circle-sgd", Spec: a.Spec.JSON(), Step: 1200, Owner: true,
	}}, nil)
	a.SetField("lr", "0.1")
	if n := a.EditNote(); !strings.Contains(n, "Play continues from step 1,200") {
		t.Errorf("note %q", n)
	}
	a.Play()
	if c := h.last(); c.Type != protocol.CmdContinue || !c.Autostart || !strings.Contains(string(c.Spec), `"lr":0.1`) {
		t.Fatalf("Play sent %+v", c)
	}
	a.AddLayer()
	if n := a.EditNote(); !strings.Contains(n, "the network's shape changed, so Play starts a new run at step 0") {
		t.Errorf("note %q", n)
	}
	a.Play()
	if c := h.last(); c.Type != protocol.CmdStart {
		t.Fatalf("Play after a shape change sent %+v", c)
	}
	a.SetField("lr", "0.2")
	a.Reset()
	if c := h.last(); c.Type != protocol.CmdReset || !strings.Contains(string(c.Spec), `"lr":0.2`) {
		t.Fatalf("Reset sent %+v", c)
	}
	a.Revert()
	a.Reset()
	if c := h.last(); c.Type != protocol.CmdReset || len(c.Spec) != 0 {
		t.Fatalf("Reset without edits sent %+v", c)
	}
	a.StepOnce()
	if c := h.last(); c.Type != protocol.CmdStep || !c.Epoch {
		t.Fatalf("Step sent %+v", c)
	}
	a.SetStepBy("batch")
	a.StepOnce()
	if c := h.last(); c.Epoch || h.options["stepBy"] != "batch" {
		t.Fatalf("Step by batch sent %+v, URL %v", c, h.options)
	}
}

// The settings Play, Reset, Fork or a new run send stay in the panel
// until the worker answers that command: a status of the old run in
// between does not put its settings back, a refusal keeps the edits (to
// mend and send again), and edits made while the command was in flight
// are not overwritten by its answer.
func TestDraftWaitsForItsAnswer(t *testing.T) {
	a, h := running(t)
	old := a.Spec.JSON()
	status := func(seq int64, run string, sp []byte) {
		a.Apply(protocol.Event{Type: protocol.EvStatus, Seq: seq, Status: &protocol.Status{
			Phase: "running", Run: run, Name: "circle-sgd", Spec: sp, Step: 1200, Owner: true,
		}}, nil)
	}
	lr := func() float64 { return a.Draft.Optimizer.LR }

	// Refused: the edit outlives the refusal and the old run's statuses.
	a.SetField("lr", "0.1")
	a.Play()
	c := h.last()
	if c.Type != protocol.CmdContinue || c.Seq == 0 {
		t.Fatalf("Play sent %+v", c)
	}
	status(0, "circle-sgd-1", old) // sent before the worker took the command
	if lr() != 0.1 {
		t.Fatalf("a status of the old run put the learning rate back to %v before Play's answer", lr())
	}
	a.Apply(protocol.Event{Type: protocol.EvError, Seq: c.Seq, Message: "continue: lock for new run: busy"}, nil)
	status(0, "circle-sgd-1", old)
	if lr() != 0.1 || !a.Edited() {
		t.Fatalf("after a refused Play the draft's learning rate is %v (edited %v), want the edit kept", lr(), a.Edited())
	}

	// Taken: the answer's status carries the new spec; the draft follows
	// the run again afterwards.
	a.Play()
	c = h.last()
	taken := []byte(c.Spec)
	status(c.Seq, "circle-sgd-2", taken)
	if a.Edited() || lr() != 0.1 {
		t.Fatalf("after Play's answer: edited %v, learning rate %v", a.Edited(), lr())
	}
	status(0, "circle-sgd-1", old) // e.g. the old run opened from the timeline
	if lr() != 0.03 {
		t.Fatalf("the draft does not follow the run after the answer: learning rate %v", lr())
	}

	// Edited again while Fork was in flight: the answer does not undo it.
	a.SetField("lr", "0.2")
	a.Fork("circle-sgd-1", "000000000500-aaaaaaaa")
	c = h.last()
	a.SetField("lr", "0.3")
	status(c.Seq, "circle-sgd-3", []byte(c.Spec))
	if lr() != 0.3 || !a.Edited() {
		t.Fatalf("an edit made while Fork was in flight became %v (edited %v)", lr(), a.Edited())
	}

	// Reset with edits and a new run work the same way.
	a.Reset()
	c = h.last()
	if c.Type != protocol.CmdReset || !strings.Contains(string(c.Spec), `"lr":0.3`) {
		t.Fatalf("Reset sent %+v", c)
	}
	status(0, "circle-sgd-3", old)
	if lr() != 0.3 {
		t.Fatalf("a status before Reset's answer put the learning rate back to %v", lr())
	}
	status(c.Seq, "circle-sgd-4", []byte(c.Spec))
	if a.Edited() {
		t.Fatal("the draft is still edited after Reset's answer")
	}
}

// The speed control sends the pace and keeps it in the URL; the share
// dialog's link carries the spec, the lesson and the pace.
func TestPaceAndShare(t *testing.T) {
	a, h := running(t)
	a.SetPace("0")
	if c := h.last(); c.Type != protocol.CmdSettings || c.Pace == nil || *c.Pace != 0 || h.options["speed"] != "max" {
		t.Fatalf("sent %+v, URL %v", c, h.options)
	}
	a.OpenShare()
	a.SetSeen("checkpoints", Hidden)
	a.SetSeen("lr", Locked)
	a.SetShareOption("embed", "true")
	// The step being typed stays while the page renders, until its change.
	a.Typing("share-stopat", "5")
	render(t, &Page{App: a})
	if got := a.Text("share-stopat", a.Share.StopAt); got != "5" {
		t.Fatalf("the stop step being typed shows %q", got)
	}
	a.SetShareOption("stopAt", "500")
	if got := a.Text("share-stopat", a.Share.StopAt); got != "500" {
		t.Fatalf("after the change the field shows %q", got)
	}
	a.SetShareOption("autostart", "true")
	u, err := url.Parse(a.Share.Link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("hide") != "checkpoints" || q.Get("lock") != "lr" || q.Get("embed") != "1" || q.Get("stopAt") != "500" ||
		q.Get("autostart") != "1" || q.Get("speed") != "max" || q.Get("dataset") != "circle" {
		t.Fatalf("link %s", a.Share.Link)
	}
	html := render(t, &Page{App: a})
	if !strings.Contains(html, `data-testid="share-dialog"`) || !strings.Contains(html, `data-testid="share-lr"`) {
		t.Error("the share dialog is not rendered")
	}
	a.CopyShare()
	if h.copied != a.Share.Link {
		t.Errorf("copied %q", h.copied)
	}
}

// A run that diverged says so where it paused; a second tab shows no
// epoch and says where the run's picture is.
func TestDivergedAndElsewhere(t *testing.T) {
	a, _ := running(t)
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: "paused", Run: "circle-sgd-1", Name: "circle-sgd", Spec: a.Spec.JSON(), Step: 1300, Owner: true, Diverged: 1300,
	}}, nil)
	html := render(t, &Page{App: a})
	if got := testid(t, html, "diverged"); !strings.Contains(got, "diverged at step 1,300") || !strings.Contains(got, "learning rate (0.03) is too high") {
		t.Errorf("diverged says %q", got)
	}
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: "locked", Run: "circle-sgd-1", Name: "circle-sgd", Step: 84377,
	}}, nil)
	html = render(t, &Page{App: a})
	if got := testid(t, html, "epoch"); got != "–" {
		t.Errorf("epoch in another tab's run %q", got)
	}
	if got := testid(t, html, "step-shown"); got != "84,377" {
		t.Errorf("step shown %q", got)
	}
	if !strings.Contains(html, `data-testid="heat-elsewhere"`) {
		t.Error("no word on the map that another tab trains the run")
	}
}

func TestTickLabels(t *testing.T) {
	for v, want := range map[float64]string{0: "0.000", 0.6931: "0.693", 999.5: "999.500", 5.97e33: "5.97e+33", 12345: "1.23e+04"} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%g) = %q, want %q", v, got, want)
		}
	}
}

// A status the worker sent before it took the page's settings does not
// undo them: auto-push ticked and the speed chosen stay until the
// worker's answer, which then has them.
func TestSettingsSurviveEarlierStatus(t *testing.T) {
	a, _ := running(t)
	st := func(seq int64, autoPush bool, pace int) {
		a.Apply(protocol.Event{Type: protocol.EvStatus, Seq: seq, Status: &protocol.Status{
			Phase: "running", Run: "circle-sgd-1", Name: "circle-sgd", Spec: a.Spec.JSON(), Step: 500, Owner: true,
			AutoPush: autoPush, Pace: pace,
		}}, nil)
	}
	a.SetAutoPush(true)
	a.SetPace("500")
	st(0, false, protocol.PaceDefault) // sent before the settings arrived
	if !a.AutoPush || a.Pace != 500 {
		t.Fatalf("an earlier status undid the settings: auto-push %v, pace %d", a.AutoPush, a.Pace)
	}
	st(a.settingsSeq, true, 500) // the answer
	st(0, false, 150)            // later statuses are the worker's word
	if a.AutoPush || a.Pace != 150 {
		t.Fatalf("after the answer the worker's status counts: auto-push %v, pace %d", a.AutoPush, a.Pace)
	}
	// A refused setting (an error answers it, no status): the worker's
	// statuses count again.
	a.SetPace("500")
	a.Apply(protocol.Event{Type: protocol.EvError, Seq: a.settingsSeq, Message: "settings: refused"}, nil)
	st(0, false, 150)
	if a.Pace != 150 {
		t.Fatalf("after a refused setting the worker's status does not count: pace %d", a.Pace)
	}
}
