package sharpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// callEveryMethod calls each exported method of recv (a pointer) with zero
// or harmless arguments, and reports what each returned; a panic fails the
// test. Methods are found by reflection, so a method added later is
// covered too.
func callEveryMethod(t *testing.T, recv any) map[string][]reflect.Value {
	t.Helper()
	v := reflect.ValueOf(recv)
	got := map[string][]reflect.Value{}
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		fn := v.Method(i)
		ft := fn.Type()
		var args []reflect.Value
		for j := range ft.NumIn() {
			in := ft.In(j)
			switch {
			case ft.IsVariadic() && j == ft.NumIn()-1:
				// no options
			case in == reflect.TypeFor[context.Context]():
				args = append(args, reflect.ValueOf(context.Background()))
			case in == reflect.TypeFor[string]():
				args = append(args, reflect.ValueOf("x"))
			case in == reflect.TypeFor[http.ResponseWriter]():
				args = append(args, reflect.ValueOf(httptest.NewRecorder()))
			case in == reflect.TypeFor[*http.Request]():
				args = append(args, reflect.ValueOf(httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))))
			case in == reflect.TypeFor[fmt.State]():
				args = append(args, reflect.ValueOf(fmtState{io.Discard}))
			case in == reflect.TypeFor[rune]():
				args = append(args, reflect.ValueOf('v'))
			default:
				args = append(args, reflect.Zero(in))
			}
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%T.%s panicked: %v", recv, m.Name, p)
				}
			}()
			got[m.Name] = fn.Call(args)
		}()
	}
	return got
}

// fmtState is a fmt.State that writes nowhere, for calling Format.
type fmtState struct{ io.Writer }

func (fmtState) Width() (int, bool)     { return 0, false }
func (fmtState) Precision() (int, bool) { return 0, false }
func (fmtState) Flag(int) bool          { return false }

// lastError returns the error a method returned last, if its last result is
// an error.
func lastError(out []reflect.Value) (error, bool) {
	if len(out) == 0 || out[len(out)-1].Type() != reflect.TypeFor[error]() {
		return nil, false
	}
	err, _ := out[len(out)-1].Interface().(error)
	return err, true
}

// Every exported method of a zero or nil Client returns an error (or a zero
// value, for accessors) instead of panicking.
func TestZeroClient(t *testing.T) {
	for name, c := range map[string]*Client{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			for method, out := range callEveryMethod(t, c) {
				if err, ok := lastError(out); ok && err == nil {
					t.Errorf("%s: no error", method)
				}
			}
			// With valid input, the error is the one that says why.
			if _, err := c.Ping(context.Background()); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("Ping: %v, want ErrNotInitialized", err)
			}
			if _, err := c.Translate(context.Background(), TranslateParams{Content: "hi", Language: "Italian"}); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("Translate: %v, want ErrNotInitialized", err)
			}
			if _, err := ResumeJob[TranslateResult](c, "job-1", ""); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("ResumeJob: %v, want ErrNotInitialized", err)
			}
			if st := c.Limiter(); st != (LimiterStats{}) {
				t.Errorf("Limiter() = %+v, want the zero value", st)
			}
		})
	}
}

// Every exported method of a zero or nil Job returns ErrNotInitialized (or a
// zero value, for accessors); OnDone calls its func with that error.
func TestZeroJob(t *testing.T) {
	for name, j := range map[string]*Job[TranslateResult]{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			for method, out := range callEveryMethod(t, j) {
				if err, ok := lastError(out); ok && !errors.Is(err, ErrNotInitialized) {
					t.Errorf("%s: %v, want ErrNotInitialized", method, err)
				}
			}
			if _, err := j.Wait(context.Background()); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("Wait: %v", err)
			}
			if o := <-j.WaitAsync(context.Background()); !errors.Is(o.Err, ErrNotInitialized) {
				t.Errorf("WaitAsync: %v", o.Err)
			}
			done := make(chan error, 1)
			j.OnDone(context.Background(), func(_ TranslateResult, err error) { done <- err })
			if err := <-done; !errors.Is(err, ErrNotInitialized) {
				t.Errorf("OnDone: %v", err)
			}
			if j.ID() != "" || j.Raw() != nil || j.Meta().StatusCode != 0 {
				t.Error("accessors of a zero Job are not zero")
			}
		})
	}
}

// A zero (or nil) WebhookHandler answers deliveries 503 (it has no secret to verify
// with: fail closed), and its other methods return zero values.
func TestZeroWebhookHandler(t *testing.T) {
	for name, h := range map[string]*WebhookHandler{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			callEveryMethod(t, h)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id":"j","status":"success"}`))
			req.Header.Set(WebhookSignatureHeader, SignWebhook([]byte(`{"id":"j","status":"success"}`), "s"))
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("ServeHTTP answered %d, want 503", rec.Code)
			}
			if err := h.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}
