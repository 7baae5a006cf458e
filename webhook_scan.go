package sharpapi

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the webhook body parser. Routing needs only id, status and
// type, and a full json.Unmarshal of a 1 KiB body costs several times the
// HMAC that precedes it, so the body is walked once by hand: the whole of it
// is validated (it must be what json.Valid accepts), the three strings are
// extracted and "result" is returned as a sub-slice, not decoded. The
// differential fuzz target FuzzParseWebhook holds it to encoding/json.

// maxJSONDepth is encoding/json's nesting limit. Using the same one keeps the
// scanner's verdict equal to json.Valid's for every input.
const maxJSONDepth = 10000

// String flags gathered while scanning, so that the common string (ASCII,
// no escapes) is converted without a second look.
const (
	strEscaped  = 1 << iota // contains a backslash escape
	strNonASCII             // contains a byte >= 0x80
)

// scannedString locates one string's contents (between the quotes).
type scannedString struct {
	start, end int
	flags      uint8
	isString   bool // false: the key was present with a non-string value
	present    bool
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialBytes marks, in the high bit of each byte of w, the bytes that end
// or escape a string or are control characters: '"', '\\' and < 0x20. Bits
// above a marked byte may be false positives (borrows), but the lowest mark
// is always exact, which is all the scanner uses.
func specialBytes(w uint64) uint64 {
	quote := w ^ (lsb * '"')
	bslash := w ^ (lsb * '\\')
	return ((quote-lsb) & ^quote | (bslash-lsb) & ^bslash | (w-lsb*0x20) & ^w) & msb
}

// scanString validates the string whose opening quote is at b[i] and returns
// the index just past its closing quote. Runs of ordinary bytes are skipped
// eight at a time.
func scanString(b []byte, i int) (end int, flags uint8, ok bool) {
	i++
	for {
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if sp := specialBytes(w); sp != 0 {
				n := bits.TrailingZeros64(sp) / 8 // ordinary bytes before it
				if w&(1<<(8*n)-1)&msb != 0 {
					flags |= strNonASCII
				}
				i += n
				break
			}
			if w&msb != 0 {
				flags |= strNonASCII
			}
			i += 8
		}
		if i >= len(b) {
			return i, flags, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, true
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return i, flags, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, flags, false
				}
				i += 6
			default:
				return i, flags, false
			}
		case c < 0x20:
			return i, flags, false
		default:
			if c >= utf8.RuneSelf {
				flags |= strNonASCII
			}
			i++
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if _, ok := unhex(c); !ok {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		v, _ := unhex(c)
		r = r<<4 | rune(v)
	}
	return r
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanNumber validates the JSON number at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// scanKey validates an object key at b[i] and the colon after it, and
// returns the key's end and the index of the value.
func scanKey(b []byte, i int) (keyEnd int, flags uint8, value int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, 0, i, false
	}
	keyEnd, flags, ok = scanString(b, i)
	if !ok {
		return keyEnd, flags, keyEnd, false
	}
	j := skipSpace(b, keyEnd)
	if j >= len(b) || b[j] != ':' {
		return keyEnd, flags, j, false
	}
	return keyEnd, flags, skipSpace(b, j+1), true
}

// skipValue validates the JSON value at b[i], inside depth open containers,
// and returns the index just past it. It keeps its own stack instead of
// recursing, so a deeply nested body cannot exhaust the goroutine's stack.
func skipValue(b []byte, i, depth int) (int, bool) {
	var buf [32]byte
	stack := buf[:0] // open containers: '{' or '['
	var ok bool
value:
	for {
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+len(stack)+1 > maxJSONDepth {
				return i, false
			}
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == closer {
				i, ok = i+1, true
				break // an empty container is a complete value
			}
			stack = append(stack, c)
			if c == '{' {
				if _, _, i, ok = scanKey(b, i); !ok {
					return i, false
				}
			}
			continue value
		case '"':
			i, _, ok = scanString(b, i)
		case 't':
			i, ok = scanLiteral(b, i, "true")
		case 'f':
			i, ok = scanLiteral(b, i, "false")
		case 'n':
			i, ok = scanLiteral(b, i, "null")
		default:
			i, ok = scanNumber(b, i)
		}
		if !ok {
			return i, false
		}
		// A value is complete: close containers until one expects more.
		for len(stack) > 0 {
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			top := stack[len(stack)-1]
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if top == '{' {
					if _, _, i, ok = scanKey(b, i); !ok {
						return i, false
					}
				}
				continue value
			case '}':
				if top != '{' {
					return i, false
				}
			case ']':
				if top != '[' {
					return i, false
				}
			default:
				return i, false
			}
			i++
			stack = stack[:len(stack)-1]
		}
		return i, true
	}
}

// Keys the webhook parser looks at.
const (
	keyOther = iota
	keyID
	keyStatus
	keyType
	keyResult
)

func classifyKey(k []byte, flags uint8) int {
	if flags&strEscaped != 0 {
		return keyKind(unquoteJSON(k, flags))
	}
	switch string(k) { // a switch on a conversion does not allocate
	case "id", "status", "type", "result":
		return keyKind(string(k))
	}
	return keyOther
}

func keyKind(s string) int {
	switch s {
	case "id":
		return keyID
	case "status":
		return keyStatus
	case "type":
		return keyType
	case "result":
		return keyResult
	}
	return keyOther
}

func malformed(what string, off int) error {
	return fmt.Errorf("%w: %s at offset %d", ErrMalformedWebhook, what, off)
}

// parseWebhookBody validates body as JSON and extracts the event from its
// top-level object. It never decodes "result".
func parseWebhookBody(b []byte) (WebhookEvent, error) {
	var (
		id, status, typ scannedString
		result          []byte
	)
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return WebhookEvent{}, malformed("not a JSON object", i)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			keyStart := i
			keyEnd, kflags, v, ok := scanKey(b, i)
			if !ok {
				return WebhookEvent{}, malformed("invalid object key", v)
			}
			var field *scannedString
			kind := classifyKey(b[keyStart+1:keyEnd-1], kflags)
			switch kind {
			case keyID:
				field = &id
			case keyStatus:
				field = &status
			case keyType:
				field = &typ
			}
			var end int
			if v < len(b) && b[v] == '"' {
				var flags uint8
				if end, flags, ok = scanString(b, v); ok && field != nil {
					*field = scannedString{start: v + 1, end: end - 1, flags: flags, isString: true, present: true}
				}
			} else {
				end, ok = skipValue(b, v, 1)
				if field != nil {
					*field = scannedString{present: true}
				}
			}
			if !ok {
				return WebhookEvent{}, malformed("invalid JSON value", end)
			}
			if kind == keyResult {
				result = b[v:end:end]
			}
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return WebhookEvent{}, malformed("expected , or } after object member", i)
		}
	}
	if i = skipSpace(b, i); i != len(b) {
		return WebhookEvent{}, malformed("data after the JSON object", i)
	}
	if !id.isString {
		return WebhookEvent{}, malformed(`"id" is missing or not a string`, 0)
	}
	ev := WebhookEvent{ID: unquoteJSON(b[id.start:id.end], id.flags), Result: result}
	if ev.ID == "" {
		return WebhookEvent{}, malformed(`"id" is empty`, id.start)
	}
	if status.isString {
		ev.Status = internStatus(b[status.start:status.end], status.flags)
	}
	if typ.isString {
		ev.Type = JobType(unquoteJSON(b[typ.start:typ.end], typ.flags))
	}
	return ev, nil
}

// internStatus returns the documented states without allocating.
func internStatus(s []byte, flags uint8) JobStatus {
	if flags == 0 {
		switch string(s) {
		case string(JobStatusSuccess):
			return JobStatusSuccess
		case string(JobStatusFailed):
			return JobStatusFailed
		case string(JobStatusPending):
			return JobStatusPending
		case string(JobStatusNew):
			return JobStatusNew
		}
	}
	return JobStatus(unquoteJSON(s, flags))
}

// unquoteJSON converts a scanned string's contents to Go, exactly as
// encoding/json does: escapes decoded, a lone or broken surrogate and every
// invalid UTF-8 byte replaced by U+FFFD.
func unquoteJSON(s []byte, flags uint8) string {
	if flags&strEscaped == 0 && (flags&strNonASCII == 0 || utf8.Valid(s)) {
		return string(s)
	}
	var out strings.Builder
	out.Grow(len(s) + 2)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			// The scanner has validated the escape.
			switch e := s[i+1]; e {
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' && isHex4(s[i+2:]) {
						if pair := utf16.DecodeRune(r, hex4(s[i+2:])); pair != utf8.RuneError {
							out.WriteRune(pair)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out.WriteRune(r)
				continue
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			default: // " \ /
				out.WriteByte(e)
			}
			i += 2
		case c < utf8.RuneSelf:
			out.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			out.WriteRune(r)
			i += size
		}
	}
	return out.String()
}
