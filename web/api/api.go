// Package api is Followup's JSON API under /api/v1, for an ATS or a script:
// enroll candidates (one or many, with an Idempotency-Key), list and search
// enrollments, read a candidate's timeline, pause/resume/stop, keep the
// suppression list, read survey results and the metrics. Every route needs
// a bearer token (followup token create); a read token reads, a write token
// also changes. Errors are JSON with a stable code and a human message.
// The routes are described in openapi.json, served at /api/v1/openapi.json.
package api

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/web"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI is the API's description.
func OpenAPI() []byte { return openAPI }

// API serves /api/v1.
type API struct {
	DB      *store.DB
	Catalog *sequences.Catalog
	// Calendars are the holiday calendars for the next step's due time
	// after resuming (nil: weekdays only).
	Calendars *sequences.Calendars
	Defaults  sequences.Defaults
	Surveys   *surveys.Set // may be nil
	Language  string       // of survey labels in results
	Location  *time.Location
	Now       func() time.Time
	Log       *slog.Logger

	cache metricsCache
}

// Route is one entry of the route table.
type Route struct {
	Method, Path string
	Scope        string // store.ScopeRead or store.ScopeWrite
	handle       func(*request) (int, any, error)
}

// Routes is the route table, also checked against openapi.json in tests.
func (a *API) Routes() []Route {
	r, w := store.ScopeRead, store.ScopeWrite
	return []Route{
		{"GET", "/api/v1/openapi.json", r, a.openapi},
		{"GET", "/api/v1/sequences", r, a.sequences},
		{"POST", "/api/v1/enrollments", w, a.enroll},
		{"GET", "/api/v1/enrollments", r, a.listEnrollments},
		{"GET", "/api/v1/enrollments/{uid}", r, a.getEnrollment},
		{"GET", "/api/v1/candidates/{email}", r, a.candidate},
		{"POST", "/api/v1/candidates/{email}/tags", w, a.addTags},
		{"DELETE", "/api/v1/candidates/{email}/tags/{tag}", w, a.removeTag},
		{"GET", "/api/v1/tags", r, a.tags},
		{"POST", "/api/v1/tags/{tag}/enroll", w, a.enrollTag},
		{"POST", "/api/v1/candidates/{email}/pause", w, a.pause},
		{"POST", "/api/v1/candidates/{email}/resume", w, a.resume},
		{"POST", "/api/v1/candidates/{email}/stop", w, a.stop},
		{"GET", "/api/v1/suppressions", r, a.suppressions},
		{"POST", "/api/v1/suppressions", w, a.suppress},
		{"DELETE", "/api/v1/suppressions/{email}", w, a.unsuppress},
		{"GET", "/api/v1/surveys", r, a.surveyList},
		{"GET", "/api/v1/surveys/{name}/results", r, a.surveyResults},
		{"GET", "/api/v1/metrics", r, a.metrics},
		{"GET", "/api/v1/webhooks/deliveries", r, a.deliveries},
	}
}

// Register adds the routes to mux (web.Server.Routes).
func (a *API) Register(mux web.Mux) {
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Location == nil {
		a.Location = time.UTC
	}
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.serve(rt))
	}
	// Anything else under /api/ is a JSON 404, not the dashboard's page.
	mux.Handle("/api/", a.serve(Route{Scope: store.ScopeRead, handle: func(*request) (int, any, error) {
		return 0, nil, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such API route; see /api/v1/openapi.json"}
	}}))
}

// Error is an API error: a stable code for programs, a message for people.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// request is what a handler gets.
type request struct {
	*http.Request
	ctx   context.Context
	token store.Token
	body  []byte
}

// maxBody bounds a request body (a batch of 1,000 enrollments fits).
const maxBody = 4 << 20

func (a *API) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{Request: r, ctx: r.Context()}
		status, body := a.handle(rt, req, w)
		writeJSON(w, status, body)
	})
}

func (a *API) handle(rt Route, req *request, w http.ResponseWriter) (status int, body []byte) {
	defer func() {
		if p := recover(); p != nil {
			a.Log.Error("API handler panicked", "route", rt.Path, "panic", p)
			status, body = encodeError(errorf(http.StatusInternalServerError, "internal", "something went wrong on our side; it is logged"))
		}
	}()
	tok, err := a.authenticate(req)
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="followup"`)
		}
		return a.errorBody(err)
	}
	if !tok.Allows(rt.Scope) {
		return a.errorBody(errorf(http.StatusForbidden, "forbidden", "this token has the %s scope; this route needs %s", tok.Scope, rt.Scope))
	}
	req.token = tok
	if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
		if err != nil {
			return a.errorBody(errorf(http.StatusRequestEntityTooLarge, "too_large", "the request body is over %d bytes; send fewer enrollments per request", maxBody))
		}
		req.body = b
	}
	key := strings.TrimSpace(req.Header.Get("Idempotency-Key"))
	if key == "" || req.Method == http.MethodGet {
		return a.run(rt, req)
	}
	if len(key) > 255 {
		return a.errorBody(errorf(http.StatusBadRequest, "invalid_idempotency_key", "the Idempotency-Key is over 255 characters"))
	}
	sum := sha256.Sum256([]byte(req.Method + " " + req.URL.Path + "\n" + string(req.body)))
	replay, err := a.DB.BeginIdempotent(req.ctx, tok.ID, key, hex.EncodeToString(sum[:]), a.Now())
	switch {
	case errors.Is(err, store.ErrKeyReused):
		return a.errorBody(errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "%v", err))
	case errors.Is(err, store.ErrInProgress):
		return a.errorBody(errorf(http.StatusConflict, "request_in_progress", "%v; retry in a moment", err))
	case err != nil:
		return a.errorBody(err)
	case replay != nil:
		w.Header().Set("Idempotent-Replayed", "true")
		return replay.Status, replay.Body
	}
	status, body = a.run(rt, req)
	if status >= 500 {
		if err := a.DB.DropIdempotent(context.WithoutCancel(req.ctx), tok.ID, key); err != nil {
			a.Log.Error("releasing an idempotency key", "err", err)
		}
		return status, body
	}
	if err := a.DB.FinishIdempotent(context.WithoutCancel(req.ctx), tok.ID, key, status, body); err != nil {
		a.Log.Error("storing an idempotent response", "err", err)
	}
	return status, body
}

func (a *API) run(rt Route, req *request) (int, []byte) {
	status, v, err := rt.handle(req)
	if err != nil {
		return a.errorBody(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return a.errorBody(fmt.Errorf("encoding the response: %w", err))
	}
	return status, b
}

func (a *API) authenticate(req *request) (store.Token, error) {
	h := req.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(secret) == "" {
		return store.Token{}, errorf(http.StatusUnauthorized, "unauthorized", "send a token: Authorization: Bearer fu_… (create one with `followup token create`)")
	}
	tok, err := a.DB.Authenticate(req.ctx, strings.TrimSpace(secret), a.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errorf(http.StatusUnauthorized, "unauthorized", "this token is unknown or revoked")
	}
	return tok, err
}

// errorBody turns any error into a JSON error; unexpected ones are logged
// and shown without their details (they may name files or addresses).
func (a *API) errorBody(err error) (int, []byte) {
	var e *Error
	if !errors.As(err, &e) {
		a.Log.Error("API request failed", "err", err)
		e = errorf(http.StatusInternalServerError, "internal", "something went wrong on our side; it is logged")
	}
	return encodeError(e)
}

func encodeError(e *Error) (int, []byte) {
	b, _ := json.Marshal(struct {
		Error *Error `json:"error"`
	}{e})
	return e.Status, b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

// decode reads the JSON body into v, refusing unknown fields so a typo
// ("sequnce") is an error, not a silent default.
func (req *request) decode(v any) error {
	if len(strings.TrimSpace(string(req.body))) == 0 {
		return errorf(http.StatusBadRequest, "invalid_json", "the request needs a JSON body")
	}
	d := json.NewDecoder(strings.NewReader(string(req.body)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "invalid_json", "reading the JSON body: %v", err)
	}
	if d.More() {
		return errorf(http.StatusBadRequest, "invalid_json", "the body has more than one JSON value")
	}
	return nil
}
