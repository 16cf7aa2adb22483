package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"envoi/internal/fault"
)

// Status is the one table from fault kinds to HTTP statuses. WriteError
// departs from it only for an exceeded body limit (413 instead of 400).
func Status(kind fault.Kind) int {
	switch kind {
	case fault.Invalid:
		return http.StatusBadRequest
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.Rule:
		return http.StatusUnprocessableEntity
	case fault.TooMany:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	case fault.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// defaultMessages stand in for a fault that carries no message.
var defaultMessages = map[fault.Kind]string{
	fault.Invalid:          "invalid request",
	fault.Unauthenticated:  "authentication required",
	fault.Forbidden:        "forbidden",
	fault.NotFound:         "not found",
	fault.Conflict:         "conflict",
	fault.Rule:             "not allowed in the current state",
	fault.TooMany:          "too many requests",
	fault.Unavailable:      "service unavailable",
	fault.MethodNotAllowed: "method not allowed",
}

// ErrorBody is the JSON error shape of SPEC §12: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one error. Code is the fault kind's stable code.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError answers with err as JSON and the status of its fault kind.
// Internal errors (anything that is not a fault, too) are logged with the
// request's logger and shown only as a generic message with the request id,
// so their text, which may name tables, hosts or files, never leaks.
// WriteError is where a handler's error ends: handlers return or write an
// error, they do not also log it.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		err = errors.New("server.WriteError called with a nil error")
	}
	kind := fault.KindOf(err)
	status := Status(kind)
	id := RequestID(r)
	detail := ErrorDetail{Code: kind.Code(), RequestID: id}

	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		// Whoever read the body, the client must send less: say so even
		// when the error did not come through DecodeJSON.
		detail.Code = fault.Invalid.Code()
		detail.Message = tooLargeMessage(tooLarge)
		status = http.StatusRequestEntityTooLarge
	case kind == fault.Internal:
		Logger(r).LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", logPath(r)), slog.Any("error", err))
		detail.Message = "internal error; please quote request id " + id + " when reporting it"
	default:
		f, _ := fault.As(err)
		detail.Field = f.Field
		detail.Message = f.Message
		if detail.Message == "" {
			detail.Message = defaultMessages[kind]
		}
		// "email: is not an email address" reads as a sentence on its own.
		if f.Field != "" {
			detail.Message = f.Field + ": " + detail.Message
		}
		if kind == fault.Unavailable {
			Logger(r).LogAttrs(r.Context(), slog.LevelWarn, "unavailable", slog.Any("error", err))
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="envoi"`)
	}
	WriteJSON(w, status, ErrorBody{Error: detail})
}

// WriteJSON answers with v encoded as JSON. v is encoded before anything is
// written so that an unencodable value still yields a well-formed 500.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error: the response could not be encoded"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// API answers are per user and per account: no shared cache may keep them.
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// NotFoundJSON answers 404 in the JSON error shape. The API mounts it on
// "/api/" so that unknown API paths never fall through to the web UI's HTML.
func NotFoundJSON(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, fault.Notf("no such endpoint: %s %s", r.Method, r.URL.Path))
}

// DecodeJSON decodes the request's JSON body into dst, which must be a
// pointer. Every problem with the input is a fault.Invalid whose message
// says what is wrong and where: an empty or too large body, malformed JSON
// (with line and column), a value of the wrong type or an unknown field
// (naming the field), data after the JSON value.
//
// The body is read whole: the size limit set by Handler (or WithBodyLimit)
// bounds it.
func DecodeJSON(r *http.Request, dst any) error {
	if r.Body == nil {
		return emptyBody()
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fault.Wrap(fault.Invalid, err, "%s", tooLargeMessage(tooLarge))
		}
		return fault.Wrap(fault.Invalid, err, "the request body could not be read")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return emptyBody()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(data, err)
	}
	if rest := data[dec.InputOffset():]; len(bytes.TrimSpace(rest)) > 0 {
		extra := dec.InputOffset() + int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))
		line, col := position(data, extra)
		return fault.New(fault.Invalid, "unexpected data after the JSON value at line %d, column %d; send a single JSON value", line, col)
	}
	return nil
}

func emptyBody() error {
	return fault.New(fault.Invalid, "the request body is empty; expected JSON")
}

func tooLargeMessage(err *http.MaxBytesError) string {
	return fmt.Sprintf("the request body is too large (limit %d bytes)", err.Limit)
}

func decodeError(data []byte, err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		invalid *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the offending one included.
		bad := max(syntax.Offset-1, 0)
		line, col := position(data, bad)
		return fault.Wrap(fault.Invalid, err, "malformed JSON at line %d, column %d (byte offset %d): %s",
			line, col, bad, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Wrap(fault.Invalid, err, "malformed JSON: the body ends before the JSON value is complete")
	case errors.As(err, &typ):
		want, got := jsonType(typ.Type), describeValue(typ.Value)
		if typ.Field == "" {
			return fault.Wrap(fault.Invalid, err, "the request body must be %s, not %s", want, got)
		}
		f := fault.Invalidf(typ.Field, "must be %s, not %s", want, got)
		f.Err = err
		return f
	case errors.As(err, &invalid):
		return fmt.Errorf("decode JSON: %w", err) // a programming error: Internal
	}
	// encoding/json has no type for this error; its text is the only handle.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f := fault.Invalidf(strings.Trim(name, `"`), "unknown field")
		f.Err = err
		return f
	}
	// An UnmarshalJSON method's own fault (a domain type validating
	// itself) already says what is wrong.
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.Wrap(fault.Invalid, err, "invalid JSON value: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// position gives the 1-based line and column (in bytes) of data[offset].
func position(data []byte, offset int64) (line, col int) {
	before := data[:min(max(offset, 0), int64(len(data)))]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonType names, for a client, the JSON value a Go type expects.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a different type"
}

// describeValue turns encoding/json's description of the value it got
// ("string", "number 1.5", "bool") into words.
func describeValue(v string) string {
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return v
}
