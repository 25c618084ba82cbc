package kafka

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// saslHandshakeKey is the API key of SaslHandshake.
const saslHandshakeKey = 17

// handshakeCompatListener makes the embedded broker usable by librdkafka
// clients (kcat, confluent-kafka) with SASL. kfake serves SaslHandshake v1
// only and says so in ApiVersions (versions 1 to 1), and librdkafka
// decides from a minimum above 0 that the broker has no SASL handshake at
// all, although it would send v1 followed by SaslAuthenticate, which kfake
// serves. Each connection's ApiVersions responses are rewritten to
// advertise SaslHandshake from version 0; a client that then sends v0
// (raw SASL bytes after the handshake, which no client of this decade
// does) gets kfake's UNSUPPORTED_VERSION as before.
type handshakeCompatListener struct{ net.Listener }

func (l handshakeCompatListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeCompatConn{Conn: c, versions: map[int32]int16{}}, nil
}

// handshakeCompatConn follows the requests a client sends, remembering the
// correlation ids and versions of its ApiVersions requests, and rewrites
// the broker's answers to those.
type handshakeCompatConn struct {
	net.Conn

	mu       sync.Mutex
	versions map[int32]int16 // ApiVersions requests in flight: correlation id → version

	// Reading: where the next request frame starts.
	in     []byte // the start of a frame, until its header is complete
	inSkip int    // bytes of the current frame still to pass

	// Writing: bytes of an incomplete response frame.
	out []byte
}

// Read passes what the client sent to the broker, noting ApiVersions
// requests on the way.
func (c *handshakeCompatConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.follow(p[:n])
	return n, err
}

// follow walks request frames: 4 bytes of size, then the header (API key,
// version, correlation id) and the rest.
func (c *handshakeCompatConn) follow(b []byte) {
	for len(b) > 0 {
		if c.inSkip > 0 {
			k := min(c.inSkip, len(b))
			c.inSkip -= k
			b = b[k:]
			continue
		}
		need := 4 + 8 - len(c.in)
		k := min(need, len(b))
		c.in = append(c.in, b[:k]...)
		b = b[k:]
		if len(c.in) < 12 {
			continue
		}
		size := int(int32(binary.BigEndian.Uint32(c.in)))
		key := int16(binary.BigEndian.Uint16(c.in[4:]))
		version := int16(binary.BigEndian.Uint16(c.in[6:]))
		corr := int32(binary.BigEndian.Uint32(c.in[8:]))
		if key == 18 {
			c.mu.Lock()
			c.versions[corr] = version
			c.mu.Unlock()
		}
		c.inSkip = max(size-8, 0)
		c.in = c.in[:0]
	}
}

// Write passes the broker's responses to the client, rewriting those to
// ApiVersions requests. Frames are buffered until whole.
func (c *handshakeCompatConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	var send []byte
	for len(c.out) >= 4 {
		size := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+size {
			break
		}
		frame := c.out[:4+size]
		send = append(send, c.rewrite(frame)...)
		c.out = c.out[4+size:]
	}
	if len(c.out) == 0 {
		c.out = nil
	}
	if len(send) > 0 {
		if _, err := c.Conn.Write(send); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// rewrite returns frame, or a new frame when it answers an ApiVersions
// request and lists SaslHandshake from a version above 0. ApiVersions
// responses keep the v0 header (no tags) at every version.
func (c *handshakeCompatConn) rewrite(frame []byte) []byte {
	if len(frame) < 8 {
		return frame
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	c.mu.Lock()
	version, ok := c.versions[corr]
	delete(c.versions, corr)
	c.mu.Unlock()
	if !ok {
		return frame
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	if err := resp.ReadFrom(frame[8:]); err != nil || resp.ErrorCode != 0 {
		// A v0 answer to a newer request (UNSUPPORTED_VERSION) or
		// something unexpected: pass it untouched.
		return frame
	}
	changed := false
	for i := range resp.ApiKeys {
		if resp.ApiKeys[i].ApiKey == saslHandshakeKey && resp.ApiKeys[i].MinVersion > 0 {
			resp.ApiKeys[i].MinVersion = 0
			changed = true
		}
	}
	if !changed {
		return frame
	}
	body := resp.AppendTo(nil)
	out := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(out, uint32(4+len(body)))
	binary.BigEndian.PutUint32(out[4:], uint32(corr))
	return append(out, body...)
}
