package syslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/auto"
	"github.com/leodido/go-syslog/v4/common"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/pipectl/pipectl/runtime/connector"
)

// The fields of a record's value (ValueSchema). A field the message does
// not have is left out of the map.
const (
	fieldFacility       = "facility"
	fieldFacilityName   = "facility_name"
	fieldSeverity       = "severity"
	fieldSeverityName   = "severity_name"
	fieldVersion        = "version"
	fieldTimestamp      = "timestamp"
	fieldHostname       = "hostname"
	fieldAppName        = "app_name"
	fieldProcID         = "proc_id"
	fieldMsgID          = "msg_id"
	fieldStructuredData = "structured_data"
	fieldMessage        = "message"
	fieldFormat         = "format"
	fieldSender         = "sender"
	fieldRaw            = "raw"
	fieldParseError     = "parse_error"
)

func optional(t connector.SchemaType) *connector.Schema {
	return &connector.Schema{Type: t, Optional: true}
}

// ValueSchema is the schema of every record's value: a parsed message has
// the syslog fields, one that could not be parsed (on_parse_error =
// "record") has raw and parse_error instead; both have format (the format
// the message was read as, or tried as) and sender.
var ValueSchema = &connector.Schema{Type: connector.TypeStruct, Name: "pipectl.syslog.Message", Fields: []connector.Field{
	{Name: fieldFacility, Schema: optional(connector.TypeInt32)},
	{Name: fieldFacilityName, Schema: optional(connector.TypeString)},
	{Name: fieldSeverity, Schema: optional(connector.TypeInt32)},
	{Name: fieldSeverityName, Schema: optional(connector.TypeString)},
	{Name: fieldVersion, Schema: optional(connector.TypeInt32)},
	{Name: fieldTimestamp, Schema: &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros, Optional: true}},
	{Name: fieldHostname, Schema: optional(connector.TypeString)},
	{Name: fieldAppName, Schema: optional(connector.TypeString)},
	{Name: fieldProcID, Schema: optional(connector.TypeString)},
	{Name: fieldMsgID, Schema: optional(connector.TypeString)},
	{Name: fieldStructuredData, Schema: &connector.Schema{Type: connector.TypeMap, Optional: true,
		Keys: &connector.Schema{Type: connector.TypeString},
		Values: &connector.Schema{Type: connector.TypeMap,
			Keys: &connector.Schema{Type: connector.TypeString}, Values: &connector.Schema{Type: connector.TypeString}}}},
	{Name: fieldMessage, Schema: optional(connector.TypeString)},
	{Name: fieldFormat, Schema: &connector.Schema{Type: connector.TypeString}},
	{Name: fieldSender, Schema: &connector.Schema{Type: connector.TypeString}},
	{Name: fieldRaw, Schema: optional(connector.TypeString)},
	{Name: fieldParseError, Schema: optional(connector.TypeString)},
}}

// KeySchema is the schema of every record's key: the message's host name,
// or the sender's IP address when it has none.
var KeySchema = &connector.Schema{Type: connector.TypeString}

// errTooLong is the parse error of a message longer than max_message_bytes.
var errTooLong = errors.New("message longer than max_message_bytes")

// parser parses messages of one format. It is not safe for concurrent
// use: each reader has its own.
type parser struct {
	format  string // auto, rfc5424 or rfc3164
	machine gosyslog.Machine
}

func newParser(format string, loc *time.Location) *parser {
	opts3164 := []gosyslog.MachineOption{
		rfc3164.WithYear(rfc3164.CurrentYear{}),
		rfc3164.WithTimezone(loc),
		rfc3164.WithRFC3339(),
		rfc3164.WithSecondFractions(),
		rfc3164.WithEmbeddedNewlines(),
	}
	p := &parser{format: format}
	switch format {
	case "rfc5424":
		p.machine = rfc5424.NewMachine()
	case "rfc3164":
		p.machine = rfc3164.NewMachine(opts3164...)
	default:
		p.machine = auto.NewMachine(auto.WithRFC3164Options(opts3164...))
	}
	return p
}

// parse turns one message into a record value; the error says why it is
// not a syslog message of the format.
func (p *parser) parse(msg []byte, sender string) (map[string]any, error) {
	m, err := p.machine.Parse(msg)
	if err == nil && (m == nil || !m.Valid()) {
		err = errors.New("not a valid syslog message")
	}
	if err != nil {
		var pe *auto.ParseError
		if errors.As(err, &pe) && pe.Err != nil {
			err = pe.Err
		}
		return nil, err
	}
	v := make(map[string]any, 12)
	var base *gosyslog.Base
	switch m := m.(type) {
	case *rfc5424.SyslogMessage:
		base = &m.Base
		v[fieldFormat] = "rfc5424"
		v[fieldVersion] = int64(m.Version)
		if m.StructuredData != nil {
			sd := make(map[string]any, len(*m.StructuredData))
			for id, params := range *m.StructuredData {
				ps := make(map[string]any, len(params))
				for k, pv := range params {
					ps[k] = pv
				}
				sd[id] = ps
			}
			v[fieldStructuredData] = sd
		}
	case *rfc3164.SyslogMessage:
		base = &m.Base
		v[fieldFormat] = "rfc3164"
	default:
		return nil, fmt.Errorf("unexpected message type %T", m)
	}
	if base.Facility != nil {
		v[fieldFacility] = int64(*base.Facility)
		if name, ok := common.FacilityKeywords[*base.Facility]; ok {
			v[fieldFacilityName] = name
		}
	}
	if base.Severity != nil {
		v[fieldSeverity] = int64(*base.Severity)
		v[fieldSeverityName] = common.SeverityLevelsShort[*base.Severity]
	}
	if base.Timestamp != nil {
		v[fieldTimestamp] = *base.Timestamp
	}
	setString(v, fieldHostname, base.Hostname)
	setString(v, fieldAppName, base.Appname)
	setString(v, fieldProcID, base.ProcID)
	setString(v, fieldMsgID, base.MsgID)
	setString(v, fieldMessage, base.Message)
	v[fieldSender] = sender
	return v, nil
}

func setString(v map[string]any, name string, s *string) {
	if s != nil {
		v[name] = *s
	}
}

// failedValue is the value of a message that could not be parsed, for
// on_parse_error = "record".
func (p *parser) failedValue(msg []byte, sender string, err error) map[string]any {
	return map[string]any{fieldFormat: p.format, fieldSender: sender, fieldRaw: string(msg), fieldParseError: err.Error()}
}

// trimTrailer removes the trailer a sender may put after a message: a
// newline (with a carriage return before it) or a NUL.
func trimTrailer(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// framer reads the messages of a TCP stream framed as RFC 6587 says,
// detected per message: octet counting ("LEN SP MSG", LEN a decimal
// without leading zero) when the frame starts with a digit, else
// non-transparent framing (the message ends at a newline; a NUL or a
// carriage return before it is dropped). Newlines, carriage returns and
// NULs between frames are skipped. A message longer than max is cut to
// its first max bytes and reported with tooLong; the rest of it is read
// and discarded. At the end of the stream, a last line without a newline
// is a message.
type framer struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newFramer(r io.Reader, max int) *framer {
	return &framer{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// maxLenDigits is the most digits an octet count may have: 16 MiB, the
// largest max_message_bytes, has 8.
const maxLenDigits = 8

// next returns the next message; it is valid until the next call. err is
// io.EOF at the end of the stream, or the read error.
func (f *framer) next() (msg []byte, tooLong bool, err error) {
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if c == '\n' || c == '\r' || c == 0 || c == ' ' || c == '\t' {
			continue
		}
		f.buf = append(f.buf[:0], c)
		if c < '1' || c > '9' {
			return f.line()
		}
		break
	}
	// Octet counting: digits, then a space.
	n := int(f.buf[0] - '0')
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			if err == io.EOF && len(f.buf) > 0 {
				return f.buf, false, nil
			}
			return nil, false, err
		}
		if c == ' ' {
			break
		}
		f.buf = append(f.buf, c)
		if c < '0' || c > '9' || len(f.buf) > maxLenDigits {
			// Not a count: the frame is a line that starts with digits.
			if c == '\n' {
				return trimTrailer(f.buf), false, nil
			}
			return f.line()
		}
		n = n*10 + int(c-'0')
	}
	keep := min(n, f.max)
	if cap(f.buf) < keep {
		f.buf = make([]byte, keep)
	}
	f.buf = f.buf[:keep]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("the stream ended inside a message of %d bytes: %w", n, io.ErrUnexpectedEOF)
		}
		return nil, false, err
	}
	if n > keep {
		if _, err := f.r.Discard(n - keep); err != nil {
			return nil, false, err
		}
		return f.buf, true, nil
	}
	return f.buf, false, nil
}

// line reads the rest of a newline-terminated message whose first bytes
// are in f.buf.
func (f *framer) line() ([]byte, bool, error) {
	tooLong := len(f.buf) > f.max
	for {
		chunk, err := f.r.ReadSlice('\n')
		if !tooLong {
			f.buf = append(f.buf, chunk...)
			if len(f.buf) > f.max+2 { // room for "\r\n"
				tooLong = true
			}
		}
		switch {
		case err == nil:
			return f.result(tooLong)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return f.result(tooLong)
		default:
			return nil, false, err
		}
	}
}

func (f *framer) result(tooLong bool) ([]byte, bool, error) {
	msg := trimTrailer(f.buf)
	if len(msg) > f.max {
		return msg[:f.max], true, nil
	}
	return msg, tooLong, nil
}
