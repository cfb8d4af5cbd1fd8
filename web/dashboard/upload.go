package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"followup/internal/csvimport"
)

// uploads are the CSV imports started from the dashboard, kept in memory
// for an hour after they finish so their report can be read.
type uploads struct {
	mu   sync.Mutex
	jobs map[string]*uploadJob
}

func newUploads() *uploads { return &uploads{jobs: map[string]*uploadJob{}} }

// maxRejectsShown bounds the rejected rows kept for the report.
const maxRejectsShown = 1000

const (
	keepFinished = time.Hour
	maxJobs      = 100
	importLimit  = 30 * time.Minute
)

type uploadJob struct {
	ID, Owner, Name string
	Total           int64
	done            chan struct{}

	mu       sync.Mutex
	read     int64
	rows     int
	finished time.Time
	sum      csvimport.Summary
	rejects  []csvimport.Reject
	err      string
}

// uploadStatus is a job's state, as the page shows it and the script polls it.
type uploadStatus struct {
	Name     string             `json:"name"`
	Done     bool               `json:"done"`
	Read     int64              `json:"read"`
	Total    int64              `json:"total"`
	Percent  int                `json:"percent"`
	Rows     int                `json:"rows"`
	Enrolled int                `json:"enrolled"`
	Already  int                `json:"already"`
	Rejected int                `json:"rejected"`
	Error    string             `json:"error,omitempty"`
	Rejects  []csvimport.Reject `json:"-"`
	MoreRows int                `json:"-"` // rejected rows not kept
	Summary  *csvimport.Summary `json:"-"`
	JobID    string             `json:"-"`
}

func (j *uploadJob) status() uploadStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := uploadStatus{Name: j.Name, JobID: j.ID, Done: !j.finished.IsZero(), Read: j.read, Total: j.Total, Rows: j.rows,
		Enrolled: j.sum.Enrolled, Already: j.sum.Already, Rejected: j.sum.Rejected, Error: j.err}
	if s.Total > 0 {
		s.Percent = int(100 * s.Read / s.Total)
	}
	if s.Done {
		s.Percent = 100
		s.Rejects = j.rejects
		s.MoreRows = j.sum.Rejected - len(j.rejects)
		sum := j.sum
		s.Summary = &sum
	}
	return s
}

func (u *uploads) add(j *uploadJob, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, old := range u.jobs {
		old.mu.Lock()
		expired := !old.finished.IsZero() && now.Sub(old.finished) > keepFinished
		old.mu.Unlock()
		if expired {
			delete(u.jobs, id)
		}
	}
	if len(u.jobs) >= maxJobs {
		return false
	}
	u.jobs[j.ID] = j
	return true
}

func (u *uploads) get(id, owner string) (*uploadJob, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	j, ok := u.jobs[id]
	if !ok || j.Owner != owner {
		return nil, false
	}
	return j, true
}

type uploadFormView struct {
	Sequences []string
	Limit     int64 // MiB
	Problem   string
}

func (d *Dashboard) uploadForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "upload", texts[d.lang(r, nil)]["upload"], uploadFormView{Sequences: d.sequenceNames(), Limit: d.cfg.UploadLimit >> 20})
}

// upload starts importing a CSV file and sends the browser to its
// progress page.
func (d *Dashboard) upload(w http.ResponseWriter, r *http.Request) {
	t := texts[d.lang(r, nil)]
	v := uploadFormView{Sequences: d.sequenceNames(), Limit: d.cfg.UploadLimit >> 20}
	problem := func(code int, msg string) {
		v.Problem = msg
		d.render(w, r, code, "upload", t["upload"], v)
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		problem(http.StatusBadRequest, t["noFile"])
		return
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size > d.cfg.UploadLimit {
		problem(http.StatusRequestEntityTooLarge, fmt.Sprintf(t["tooBig"], d.cfg.UploadLimit>>20))
		return
	}
	enc := r.PostForm.Get("encoding")
	switch enc {
	case "", "utf-8", "gb18030", "big5":
	default:
		problem(http.StatusBadRequest, "unknown encoding")
		return
	}
	seq := r.PostForm.Get("sequence")
	if _, ok := d.cfg.Catalog.Sequences[seq]; seq != "" && !ok {
		problem(http.StatusBadRequest, t["chooseSequence"])
		return
	}
	f, err := fh.Open()
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, d.cfg.UploadLimit+1))
	f.Close()
	if err != nil {
		d.fail(w, r, err)
		return
	}
	name := filepath.Base(fh.Filename)
	if name == "." || name == "/" || len(name) > 200 {
		name = "upload.csv"
	}
	j := &uploadJob{ID: randomToken()[:22], Owner: sessionOf(r).Login, Name: name, Total: int64(len(data)), done: make(chan struct{})}
	if !d.jobs.add(j, d.cfg.Now()) {
		problem(http.StatusServiceUnavailable, t["busy"])
		return
	}
	// The import goes on when the browser leaves the page; it ends with
	// the import limit.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), importLimit)
	go func() {
		defer cancel()
		d.runImport(ctx, j, data, seq, enc)
	}()
	d.cfg.Log.Info("dashboard: import started", "file", name, "bytes", len(data), "user", j.Owner)
	http.Redirect(w, r, "/enroll/upload/"+j.ID, http.StatusSeeOther)
}

func (d *Dashboard) runImport(ctx context.Context, j *uploadJob, data []byte, seq, enc string) {
	defer close(j.done)
	defer func() {
		if v := recover(); v != nil { // a bug ends this import, not the server
			d.cfg.Log.Error("dashboard: import failed", "panic", fmt.Sprint(v))
			j.mu.Lock()
			j.err, j.finished = "internal error", d.cfg.Now()
			j.mu.Unlock()
		}
	}()
	sum, err := csvimport.Import(ctx, bytes.NewReader(data), csvimport.Options{
		Name: j.Name, Sequence: seq, Encoding: enc, Catalog: d.cfg.Catalog, Defaults: d.cfg.Defaults, Store: d.cfg.Store, Now: d.cfg.Now,
		Reject: func(rj csvimport.Reject) {
			j.mu.Lock()
			if len(j.rejects) < maxRejectsShown {
				j.rejects = append(j.rejects, rj)
			}
			j.mu.Unlock()
		},
		Progress: func(read int64, rows int) {
			j.mu.Lock()
			j.read, j.rows = read, rows
			j.mu.Unlock()
		},
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sum, j.finished, j.read = sum, d.cfg.Now(), j.Total
	if err != nil {
		var ee *csvimport.EncodingError
		switch {
		case errors.As(err, &ee) && ee.LooksGB18030:
			j.err = "encodingGB"
		case errors.As(err, &ee):
			j.err = "encoding"
		default:
			j.err = err.Error()
		}
		d.cfg.Log.Warn("dashboard: import failed", "file", j.Name, "err", err)
		return
	}
	d.cfg.Log.Info("dashboard: import finished", "file", j.Name, "rows", sum.Rows, "enrolled", sum.Enrolled, "rejected", sum.Rejected)
}

func (d *Dashboard) uploadPage(w http.ResponseWriter, r *http.Request) {
	j, ok := d.jobs.get(r.PathValue("job"), sessionOf(r).Login)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s := j.status()
	t := texts[d.lang(r, nil)]
	if msg, ok := t["err."+s.Error]; ok {
		s.Error = msg
	}
	v := d.view(r, t["upload"], s)
	v.Refresh = !s.Done
	d.renderView(w, http.StatusOK, "progress", v)
}

func (d *Dashboard) uploadStatus(w http.ResponseWriter, r *http.Request) {
	j, ok := d.jobs.get(r.PathValue("job"), sessionOf(r).Login)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(j.status())
}
