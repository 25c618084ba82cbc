package plan

import (
	"strconv"
	"strings"
)

// deadLetterRoot is the root of the addresses of dead-letter topics that
// no topic block declares. No block of the language has that type, so
// these addresses never collide with a resource of the configuration.
const deadLetterRoot = "dead_letter_topic"

// DeadLetterAddress is the address of the resource of a dead-letter topic
// that pipelines name and no topic block declares, by its Kafka name:
// dead_letter_topic["shop.dev.dlq"].
func DeadLetterAddress(topic string) string {
	return deadLetterRoot + "[" + strconv.Quote(topic) + "]"
}

// IsDeadLetterAddress reports whether addr is a DeadLetterAddress.
func IsDeadLetterAddress(addr string) bool {
	return strings.HasPrefix(addr, deadLetterRoot+"[")
}

// IsDeadLetter reports whether the change is of a dead-letter topic that
// no topic block declares.
func (c *Change) IsDeadLetter() bool { return IsDeadLetterAddress(c.Address) }
