package sharpapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// holder is a caller's struct that keeps an emulator in its fields, as
// values and as pointers, exported and not.
type holder struct {
	Emulator Emulator
	Server   Server
	ServerP  *Server
	EmuP     *Emulator
	//lint:ignore U1000 set through reflect: a caller's unexported field
	emulator Emulator
	//lint:ignore U1000 set through reflect: a caller's unexported field
	server Server
}

func TestNothingPrintsACredential(t *testing.T) {
	const key, secret = "KEY-d41d8cd98f00", "SECRET-9e107d9d372b"
	// The webhook URL's password and query are credentials too.
	const password, query = "HOOKPASSWORD-5a105e8b", "QUERYTOKEN-b026324c"
	s, err := New(WithAPIKey(key), WithWebhookSecret(secret),
		WithWebhookURL("https://hookuser:"+password+"@hooks.example/sharpapi?token="+query))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Copies made through reflect: vet rightly refuses a plain *s.Emulator,
	// which copies a lock, but nothing stops a caller from making one.
	emuValue := reflect.ValueOf(s.Emulator).Elem()
	h := reflect.New(reflect.TypeFor[holder]()).Elem()
	for _, f := range []string{"Emulator", "emulator"} {
		reflect.NewAt(emuValue.Type(), h.FieldByName(f).Addr().UnsafePointer()).Elem().Set(emuValue)
	}
	for _, f := range []string{"Server", "server"} {
		reflect.NewAt(h.FieldByName(f).Type(), h.FieldByName(f).Addr().UnsafePointer()).Elem().Set(reflect.ValueOf(*s))
	}
	h.FieldByName("ServerP").Set(reflect.ValueOf(s))
	h.FieldByName("EmuP").Set(reflect.ValueOf(s.Emulator))
	hold := h.Addr().Interface().(*holder)

	values := map[string]any{
		"*Server": s, "Server": *s, "*Emulator": s.Emulator, "Emulator": emuValue.Interface(),
		"holder": h.Interface(), "*holder": hold, "[]any": []any{s, *s, emuValue.Interface()},
		"map": map[string]any{"emu": emuValue.Interface(), "srv": *s},
	}
	leaks := []string{key, secret, password, query}
	for _, c := range []string{key, secret, password, query} {
		leaks = append(leaks, fmt.Sprintf("%x", c), fmt.Sprintf("%X", c), fmt.Sprintf("% x", c), fmt.Sprintf("%d", []byte(c)))
	}
	check := func(what, out string) {
		t.Helper()
		for _, c := range leaks {
			if strings.Contains(out, c) {
				t.Errorf("%s prints a credential (%q): %s", what, c, out)
				return
			}
		}
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%T %v"} {
			check(fmt.Sprintf("fmt %s of %s", verb, name), fmt.Sprintf(verb, v))
		}
		check("fmt.Sprint of "+name, fmt.Sprint(v))
		check("fmt.Sprintln of "+name, fmt.Sprintln(v))

		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v, slog.Group("g", "v", v))
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v, slog.Group("g", "v", v))
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", slog.Any("v", v))
		check("slog of "+name, buf.String())

		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("json.Marshal of %s: %v", name, err)
		}
		check("json.Marshal of "+name, string(b))
	}
	want := "sharpapitest.Emulator{baseURL: " + s.URL + ", webhookURL: https://hooks.example/sharpapi, key: <redacted>, webhook secret: <redacted>}"
	if got := s.String(); got != want {
		t.Errorf("String() = %s\nwant       %s", got, want)
	}
}
