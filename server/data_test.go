package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"playground/dataset"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/storetest"
)

// PUT and GET /api/datasets/NAME: stored once, verified against its name,
// behind the same token, Host/Origin checks and size limit as checkpoints;
// a refused PUT stores nothing.
func TestDatasetAPI(t *testing.T) {
	base, st := newServer(t, Options{Token: "tok"})
	auth := []string{"Authorization", "Bearer tok"}
	tab, other := storetest.Table(t, 2), storetest.Table(t, 3)
	u := base + "/api/datasets/" + tab.Name()
	raw := bytes.Replace(tab.Canonical(), []byte("class:3"), []byte(" class:3"), 1)
	for _, c := range []struct {
		what, method, url string
		body              []byte
		hdr               []string
		status            int
		want              string
	}{
		{"no token", "PUT", u, tab.Canonical(), nil, 401, ""},
		{"wrong token", "GET", u, nil, []string{"Authorization", "Bearer x"}, 401, ""},
		{"another's bytes", "PUT", u, other.Canonical(), auth, 400, "the bytes' SHA-256 is " + other.Name() + ", not their name " + tab.Name() + "; nothing was stored"},
		{"not canonical", "PUT", base + "/api/datasets/" + dataset.Name(raw), raw, auth, 400, "not in canonical form"},
		{"bad name", "PUT", base + "/api/datasets/..%2Fx", tab.Canonical(), auth, 400, "no dataset name"},
		{"upper case name", "GET", base + "/api/datasets/" + strings.ToUpper(tab.Name()), nil, auth, 400, "no dataset name"},
		{"missing", "GET", u, nil, auth, 404, "dataset " + tab.Name() + " not found"},
		{"digest", "PUT", u, tab.Canonical(), append([]string{"Content-Digest", "sha-256=:" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ":"}, auth...), 400, "Content-Digest"},
		{"method", "DELETE", u, nil, auth, 405, "not allowed"},
		{"stored", "PUT", u, tab.Canonical(), auth, 201, ""},
		{"again", "PUT", u, tab.Canonical(), auth, 200, ""},
		{"get", "GET", u, nil, auth, 200, ""},
		{"head", "HEAD", u, nil, auth, 200, ""},
	} {
		a := send(t, c.method, c.url, bytes.NewReader(c.body), c.hdr...)
		if a.status != c.status || !strings.Contains(a.errMsg(), c.want) {
			t.Errorf("%s: %d %s, want %d %q", c.what, a.status, a.body, c.status, c.want)
		}
		if c.what == "get" && (!bytes.Equal(a.body, tab.Canonical()) || a.header.Get("ETag") != `"`+tab.Name()+`"`) {
			t.Errorf("GET: %d bytes, ETag %s", len(a.body), a.header.Get("ETag"))
		}
	}
	if got := files(t, st.Dir()); len(got) != 1 || got[0] != "_datasets/"+tab.Name()+".csv" {
		t.Fatalf("the store holds %v, want the one dataset", got)
	}
	tight, _ := newServer(t, Options{MaxUpload: 100})
	a := send(t, "PUT", tight+"/api/datasets/"+tab.Name(), bytes.NewReader(tab.Canonical()))
	if a.status != http.StatusRequestEntityTooLarge || !strings.Contains(a.errMsg(), "at most 100 bytes") {
		t.Fatalf("over the upload limit: %d %s", a.status, a.body)
	}
}

// Without a token, a foreign Host or Origin can neither read nor write
// datasets.
func TestDatasetForeignHost(t *testing.T) {
	base, _ := newServer(t, Options{})
	port := strings.TrimPrefix(base, "http://127.0.0.1")
	tab := storetest.Table(t, 4)
	u := base + "/api/datasets/" + tab.Name()
	if a := sendHost(t, "PUT", u, "evil.example.com"+port, tab.Canonical()); a.status != http.StatusForbidden {
		t.Errorf("foreign Host: %d %s", a.status, a.body)
	}
	if a := sendHost(t, "PUT", u, "localhost"+port, tab.Canonical(), "Origin", "http://evil.example.com"); a.status != http.StatusForbidden {
		t.Errorf("foreign Origin: %d %s", a.status, a.body)
	}
	if a := sendHost(t, "PUT", u, "localhost"+port, tab.Canonical(), "Origin", "http://localhost"+port); a.status != http.StatusCreated {
		t.Errorf("own Origin: %d %s", a.status, a.body)
	}
}

// Any dataset request gets an answer, never a panic nor a 500; a PUT
// answered 2xx stored exactly its body, whose SHA-256 is its name.
func FuzzDatasetAPI(f *testing.F) {
	tab := storetest.Table(f, 5)
	f.Add("PUT", tab.Name(), tab.Canonical())
	f.Add("PUT", tab.Name(), tab.Canonical()[:20])
	f.Add("GET", tab.Name(), []byte(nil))
	f.Add("PUT", dataset.Name([]byte("a,class\n1,0\n")), []byte("a,class\n1,0\n"))
	f.Add("PUT", "%2e%2e", []byte("x"))
	st, err := disk.New(f.TempDir(), disk.NewOptions())
	if err != nil {
		f.Fatal(err)
	}
	h := New(st, Options{MaxUpload: 1 << 20})
	f.Fuzz(func(t *testing.T, method, name string, body []byte) {
		req, err := http.NewRequest(method, "http://127.0.0.1/api/datasets/"+name, bytes.NewReader(body))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 || w.Code >= 400 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: %d %s", method, name, w.Code, w.Body)
		}
		if method == "PUT" && w.Code/100 == 2 {
			stored, err := st.GetData(t.Context(), name)
			if err != nil || !bytes.Equal(stored, body) || persist.CheckDataName(name) != nil || dataset.Name(body) != name {
				t.Fatalf("PUT %s answered %d, but the store reads %d bytes, %v", name, w.Code, len(stored), err)
			}
		}
	})
}
