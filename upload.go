package sharpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"github.com/hashicorp/go-retryablehttp"
)

// requestBody is a dispatch body that can be produced again for a retry.
type requestBody struct {
	contentType string
	content     any // []byte or retryablehttp.ReaderFunc
}

func jsonBody(v any) (requestBody, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return requestBody{}, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return requestBody{contentType: "application/json", content: b}, nil
}

// File is a file to upload (a resume, an invoice). Build one with
// [FileFromPath], [FileFromReader] or [FileFromBytes]; the zero File is "no
// file". A file name with a control character (CR, LF, NUL, ...) is
// refused with [ErrInvalidParams] before anything is sent.
type File struct {
	name string
	// open returns the content from its first byte; a retry calls it again.
	open func() (io.ReadCloser, error)
}

// FileFromPath uploads the file at path, under its base name. The file is
// opened, streamed and closed on each attempt, never held in memory.
func FileFromPath(path string) File {
	return File{name: filepath.Base(path), open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
		}
		return f, nil
	}}
}

// FileFromReader uploads what r yields, under the file name name. If r is
// an io.Seeker (an *os.File, a *bytes.Reader) it is streamed, and rewound to
// where it stood for a retry; otherwise it is read into memory once so that
// a retry can send it again. The caller keeps ownership of r.
func FileFromReader(name string, r io.Reader) File {
	if r == nil {
		return File{name: name}
	}
	if s, ok := r.(io.ReadSeeker); ok {
		var (
			once  sync.Once
			start int64
			err   error
		)
		return File{name: name, open: func() (io.ReadCloser, error) {
			once.Do(func() { start, err = s.Seek(0, io.SeekCurrent) })
			if err != nil {
				return nil, err
			}
			if _, err := s.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
			return io.NopCloser(s), nil
		}}
	}
	var (
		once sync.Once
		data []byte
		err  error
	)
	return File{name: name, open: func() (io.ReadCloser, error) {
		once.Do(func() { data, err = io.ReadAll(r) })
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// FileFromBytes uploads data under the file name name.
func FileFromBytes(name string, data []byte) File {
	return FileFromReader(name, bytes.NewReader(data))
}

// Name returns the file name sent to SharpAPI.
func (f File) Name() string { return f.name }

func (f File) isZero() bool { return f.open == nil }

// formField is one text part of a multipart body.
type formField struct{ name, value string }

// formFile is one file part of a multipart body.
type formFile struct {
	field string
	file  File
}

// multipartBody streams a multipart/form-data body: the text fields, then
// the files. Only the part headers are built in memory; each attempt opens
// the files again and reads them as it sends.
func multipartBody(fields []formField, files []formFile) (requestBody, error) {
	if err := checkPartNames(fields, files); err != nil {
		return requestBody{}, err
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	for _, f := range fields {
		if err := mw.WriteField(f.name, f.value); err != nil {
			return requestBody{}, fmt.Errorf("%w: %w", ErrInvalidParams, err)
		}
	}
	// segments alternates literal bytes and files: lit[0] file[0] lit[1] ...
	var lits [][]byte
	for _, f := range files {
		if f.file.isZero() {
			return requestBody{}, fmt.Errorf("%w: %s: file is required", ErrInvalidParams, f.field)
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
			escapeQuotes(f.field), escapeQuotes(f.file.name)))
		h.Set("Content-Type", "application/octet-stream")
		if _, err := mw.CreatePart(h); err != nil {
			return requestBody{}, fmt.Errorf("%w: %w", ErrInvalidParams, err)
		}
		lits = append(lits, bytes.Clone(head.Bytes()))
		head.Reset()
	}
	if err := mw.Close(); err != nil {
		return requestBody{}, err
	}
	tail := bytes.Clone(head.Bytes())
	reader := retryablehttp.ReaderFunc(func() (io.Reader, error) {
		readers := make([]io.Reader, 0, 2*len(files)+1)
		closers := make(multiCloser, 0, len(files))
		for i, f := range files {
			rc, err := f.file.open()
			if err != nil {
				closers.Close()
				return nil, fmt.Errorf("opening %s: %w", f.file.name, err)
			}
			closers = append(closers, rc)
			readers = append(readers, bytes.NewReader(lits[i]), rc)
		}
		readers = append(readers, bytes.NewReader(tail))
		return readCloser{io.MultiReader(readers...), closers}, nil
	})
	return requestBody{contentType: mw.FormDataContentType(), content: reader}, nil
}

// checkPartNames rejects field and file names that hold a control
// character. A name is written into a part's Content-Disposition header, so
// a CR or LF in it would end that header and start others of the sender's
// choosing; mime/multipart percent-encodes CR and LF only from Go 1.25 on,
// and lets the other control characters through on every version. No real
// file name needs one, and renaming the file silently would hand SharpAPI
// a name the caller never chose: the caller gets an [ErrInvalidParams]
// before anything is sent, and can clean the name up itself.
func checkPartNames(fields []formField, files []formFile) error {
	var errs []error
	check := func(what, name string) {
		if strings.IndexFunc(name, unicode.IsControl) >= 0 {
			errs = append(errs, fmt.Errorf("%w: %s %q contains a control character", ErrInvalidParams, what, name))
		}
	}
	for _, f := range fields {
		check("form field name", f.name)
	}
	for _, f := range files {
		check("form field name", f.field)
		check("file name", f.file.name)
	}
	return errors.Join(errs...)
}

// quoteEscaper escapes a name for a quoted Content-Disposition parameter
// as mime/multipart does; checkPartNames has already refused CR and LF.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

type readCloser struct {
	io.Reader
	io.Closer
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
