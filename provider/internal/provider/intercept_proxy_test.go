package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// interceptProxy is a reverse proxy on 127.0.0.1 in front of an engine (moto) for answers the engine cannot be
// made to give: answer replies in the engine's place when it returns true, and rewrite edits the engine's
// answer before the client sees it. Both see the request with its body (form-encoded for IAM and STS) and run
// one request at a time, so they may count without locks of their own.
type interceptProxy struct {
	URL string
}

type requestBodyKey struct{}

// startInterceptProxy starts the proxy; either function may be nil. t.Cleanup stops it.
func startInterceptProxy(t *testing.T, target string,
	answer func(r *http.Request, body []byte, w http.ResponseWriter) bool,
	rewrite func(r *http.Request, body, response []byte) []byte,
) *interceptProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	if rewrite != nil {
		rp.ModifyResponse = func(resp *http.Response) error {
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			body, _ := resp.Request.Context().Value(requestBodyKey{}).([]byte)
			out := rewrite(resp.Request, body, raw)
			resp.Body = io.NopCloser(bytes.NewReader(out))
			resp.ContentLength = int64(len(out))
			resp.Header.Del("Content-Length")
			return nil
		}
	}
	lock := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lock <- struct{}{}
		defer func() { <-lock }()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if answer != nil && answer(r, body, w) {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), requestBodyKey{}, body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &interceptProxy{URL: srv.URL}
}

// queryAction returns the Action of an AWS query-protocol request (IAM, STS), from the form body or the URL.
func queryAction(r *http.Request, body []byte) string {
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		return form.Get("Action")
	}
	return r.URL.Query().Get("Action")
}
