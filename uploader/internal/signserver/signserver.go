// Package signserver is the HTTP face of the signer for applications not written in Go:
// `uploader serve-signer` listens on loopback or a unix socket, and the application, once it
// has checked that its user may upload, asks it for a form with a bearer token:
//
//	POST /sign
//	Authorization: Bearer <UPLOADER_SIGNER_TOKEN>
//	Content-Type: application/json
//
//	{"content_type": "image/jpeg", "size": 123456}
//
// The answer is the signer.Form as JSON, or a JSON error {"error": ..., "field": ...}: 401
// without the token, 400 for a refused type or size, 405 for another method, 415 for another
// body type, 413 for a body over MaxBodyBytes.
package signserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/signer"
)

// Path is the one endpoint.
const Path = "/sign"

// MinTokenBytes is the shortest token accepted: 32 characters, the hex of 128 random bits.
const MinTokenBytes = 32

// MaxBodyBytes bounds a request's body: a request is two short fields.
const MaxBodyBytes = 4 << 10

// Signer is what the handler needs of *signer.Signer.
type Signer interface {
	Sign(ctx context.Context, req signer.Request) (signer.Form, error)
}

// TokenError is a bearer token that cannot protect the endpoint.
type TokenError struct{ Problem string }

func (e *TokenError) Error() string { return "the bearer token " + e.Problem }

// CheckToken refuses an empty or short token. The error never quotes the token.
func CheckToken(token string) error {
	switch {
	case token == "":
		return &TokenError{Problem: "is not set"}
	case len(token) < MinTokenBytes:
		return &TokenError{Problem: fmt.Sprintf("has %d characters, fewer than %d: generate one with `openssl rand -hex 32`", len(token), MinTokenBytes)}
	case strings.TrimSpace(token) != token || strings.ContainsAny(token, " \t\r\n"):
		return &TokenError{Problem: "contains white space, which an Authorization header cannot carry: generate one with `openssl rand -hex 32`"}
	}
	return nil
}

// Handler answers POST /sign for callers that present token.
type Handler struct {
	signer Signer
	// tokenSum is the token's SHA-256: comparing digests of equal length keeps the comparison's
	// time independent of the token's length, too.
	tokenSum [sha256.Size]byte
	log      hclog.Logger
}

// New returns the handler; the token must pass CheckToken.
func New(s Signer, token string, log hclog.Logger) (*Handler, error) {
	if err := CheckToken(token); err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Handler{signer: s, tokenSum: sha256.Sum256([]byte(token)), log: log}, nil
}

// request is the JSON body of POST /sign.
type request struct {
	ContentType string `json:"content_type"`
	Size        *int64 `json:"size"`
}

// decodeRequest reads a body strictly: one JSON object whose only fields are content_type and
// size, each at most once and spelled exactly, and nothing after it. encoding/json alone would
// take the last of a repeated field, match names in any case and stop reading after the object,
// and an application in front, checking the request with another parser, may read such a body
// differently (the first of two content_type fields, for instance).
func decodeRequest(body io.Reader) (request, error) {
	var req request
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err != nil {
			return req, err
		}
		return req, errors.New("it is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return req, err
		}
		name, _ := t.(string)
		if seen[name] {
			return req, fmt.Errorf("the field %q twice", name)
		}
		seen[name] = true
		switch name {
		case "content_type":
			err = dec.Decode(&req.ContentType)
		case "size":
			err = dec.Decode(&req.Size)
		default:
			return req, fmt.Errorf("json: unknown field %q", name)
		}
		if err != nil {
			return req, fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the object's '}'
		return req, err
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, err
		}
		return req, errors.New("there is data after the JSON object")
	}
	return req, nil
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	// Field is the request field at fault, when there is one.
	Field string `json:"field,omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, key := h.serve(w, r)
	// The Authorization header is never logged, nor anything derived from it.
	h.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status, "key", key,
		"duration_ms", time.Since(start).Milliseconds())
}

// serve answers the request and returns the status and, for a signed form, its key.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path != Path {
		return writeError(w, http.StatusNotFound, errorBody{Error: "not found: the signer answers POST " + Path}), ""
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="uploader-signer"`)
		return writeError(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong bearer token: send Authorization: Bearer <UPLOADER_SIGNER_TOKEN>"}), ""
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " is not allowed: POST " + Path}), ""
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return writeError(w, http.StatusUnsupportedMediaType, errorBody{Error: "the body must be JSON: send Content-Type: application/json"}), ""
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return writeError(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes)}), ""
		}
		return writeError(w, http.StatusBadRequest, errorBody{Error: "the body is not a JSON object {\"content_type\": ..., \"size\": ...}: " + err.Error()}), ""
	}
	if req.Size == nil {
		return writeError(w, http.StatusBadRequest, errorBody{Error: "size is required: the file's size in bytes", Field: "size"}), ""
	}
	if *req.Size == 0 {
		return writeError(w, http.StatusBadRequest, errorBody{Error: "size: the file is empty", Field: "size"}), ""
	}
	form, err := h.signer.Sign(r.Context(), signer.Request{ContentType: req.ContentType, Size: *req.Size})
	var refused *signer.RefusedError
	switch {
	case errors.As(err, &refused):
		return writeError(w, http.StatusBadRequest, errorBody{Error: refused.Error(), Field: refused.Field}), ""
	case err != nil:
		h.log.Error("cannot sign a form", "error", err)
		return writeError(w, http.StatusInternalServerError, errorBody{Error: "the form could not be signed; the signer's log says why"}), ""
	}
	return writeJSON(w, http.StatusOK, form), form.Key
}

// authorized compares the request's bearer token with the handler's in constant time.
func (h *Handler) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) == 1
}

func writeError(w http.ResponseWriter, status int, body errorBody) int {
	return writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n')) // a client that went away gets nothing either way
	return status
}

// Server timeouts: a request is small and answered at once.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	// ShutdownGrace is how long requests in flight may finish after the context ends.
	ShutdownGrace = 10 * time.Second
)

// Serve answers requests on l until ctx ends, then lets the requests in flight finish (up to
// ShutdownGrace) and returns nil; another error is the listener's.
func Serve(ctx context.Context, l net.Listener, h http.Handler, log hclog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", l.Addr(), serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
