package kafka

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzHandshakeCompat feeds what a client may send (any bytes) through the
// request follower and answers the ApiVersions requests it noted: nothing
// panics, and an answer is rewritten only when it parses.
func FuzzHandshakeCompat(f *testing.F) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kcat", "1.7.1"
	body := req.AppendTo(nil)
	frame := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	frame = binary.BigEndian.AppendUint16(frame, 18)
	frame = binary.BigEndian.AppendUint16(frame, 3)
	frame = binary.BigEndian.AppendUint32(frame, 7)
	f.Add(append(frame, body...), []byte{0, 0, 0, 4, 0, 0, 0, 7})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 18, 0, 0, 0, 0, 0, 1}, []byte{0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, in, out []byte) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := &handshakeCompatConn{Conn: a, versions: map[int32]int16{}}
		c.follow(in)
		go func() {
			buf := make([]byte, 1<<16)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		if _, err := c.Write(out); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHandshakeCompatRewrite checks the rewrite itself: an ApiVersions
// answer listing SaslHandshake 1..1 leaves as 0..1, everything else as it
// came.
func TestHandshakeCompatRewrite(t *testing.T) {
	c := &handshakeCompatConn{versions: map[int32]int16{9: 3}}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	for _, k := range [][3]int16{{0, 3, 11}, {17, 1, 1}, {36, 0, 2}} {
		key := kmsg.NewApiVersionsResponseApiKey()
		key.ApiKey, key.MinVersion, key.MaxVersion = k[0], k[1], k[2]
		resp.ApiKeys = append(resp.ApiKeys, key)
	}
	body := resp.AppendTo(nil)
	frame := binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
	frame = binary.BigEndian.AppendUint32(frame, 9)
	frame = append(frame, body...)
	got := kmsg.NewPtrApiVersionsResponse()
	got.Version = 3
	if err := got.ReadFrom(c.rewrite(frame)[8:]); err != nil {
		t.Fatal(err)
	}
	want := map[int16][2]int16{0: {3, 11}, 17: {0, 1}, 36: {0, 2}}
	for _, k := range got.ApiKeys {
		if w := want[k.ApiKey]; w != [2]int16{k.MinVersion, k.MaxVersion} {
			t.Errorf("key %d: versions %d..%d; want %d..%d", k.ApiKey, k.MinVersion, k.MaxVersion, w[0], w[1])
		}
	}
	if len(got.ApiKeys) != 3 {
		t.Errorf("%d keys; want 3", len(got.ApiKeys))
	}
	other := binary.BigEndian.AppendUint32(nil, 4)
	other = binary.BigEndian.AppendUint32(other, 10)
	if string(c.rewrite(other)) != string(other) {
		t.Error("a response to another request was changed")
	}
}
