package baseline

import (
	"encoding/json"
	"strconv"
	"time"
)

// Record is one benchmark record: an order of about 200 bytes of JSON. Its
// fields are declared in alphabetical order, the order in which pipectl's
// JSON encoder writes the keys of a map, so that encoding/json and pipectl
// write the same object the same way.
type Record struct {
	Amount  float64 `json:"amount" avro:"amount"`
	Country string  `json:"country" avro:"country"`
	Email   string  `json:"email" avro:"email"`
	ID      int64   `json:"id" avro:"id"`
	Items   []Item  `json:"items" avro:"items"`
	TS      string  `json:"ts" avro:"ts"`
}

// Item is one line of a Record.
type Item struct {
	Price float64 `json:"price" avro:"price"`
	Qty   int64   `json:"qty" avro:"qty"`
	SKU   string  `json:"sku" avro:"sku"`
}

// countries are the values of Record.Country, chosen by seq % 6.
var countries = [...]string{"US", "DE", "FR", "GB", "NL", "ES"}

// epoch is the timestamp of record 0; record seq is epoch + seq seconds.
const epoch = 1_700_000_000

// NewRecord returns record number seq. Everything in it is a function of
// seq, so that the generator expression (GeneratorExpr) makes the same
// records.
func NewRecord(seq int64) Record {
	return Record{
		Amount:  Amount(seq),
		Country: countries[seq%int64(len(countries))],
		Email:   "customer" + strconv.FormatInt(seq, 10) + "@example.com",
		ID:      seq,
		Items: []Item{
			{Price: float64(seq%50) + 0.99, Qty: seq%5 + 1, SKU: "SKU-" + strconv.FormatInt(seq%1000, 10)},
			{Price: 3.75, Qty: 1, SKU: "SKU-" + strconv.FormatInt(seq%97, 10)},
		},
		TS: time.Unix(epoch+seq, 0).UTC().Format(time.RFC3339),
	}
}

// Amount is record seq's amount, 0.00 to 99.99: one record in ten is below
// the transform scenario's filter threshold of 10.
func Amount(seq int64) float64 { return float64(seq*7919%10000) / 100 }

// Kept reports whether record seq passes the transform scenario's filter
// (value.amount >= 10).
func Kept(seq int64) bool { return Amount(seq) >= MinAmount }

// MinAmount is the transform scenario's filter threshold.
const MinAmount = 10

// Value returns record seq as JSON.
func Value(seq int64) []byte {
	b, err := json.Marshal(NewRecord(seq))
	if err != nil {
		panic(err) // a Record always marshals
	}
	return b
}

// Key returns record seq's key: its id in decimal.
func Key(seq int64) []byte { return strconv.AppendInt(nil, seq, 10) }

// GeneratorExpr is the CEL expression of pipectl's generator source that
// makes the same records as NewRecord.
const GeneratorExpr = `{` +
	`'amount': double(seq * 7919 % 10000) / 100.0, ` +
	`'country': ['US', 'DE', 'FR', 'GB', 'NL', 'ES'][seq % 6], ` +
	`'email': 'customer' + string(seq) + '@example.com', ` +
	`'id': seq, ` +
	`'items': [` +
	`{'price': double(seq % 50) + 0.99, 'qty': seq % 5 + 1, 'sku': 'SKU-' + string(seq % 1000)}, ` +
	`{'price': 3.75, 'qty': 1, 'sku': 'SKU-' + string(seq % 97)}], ` +
	`'ts': string(timestamp(` + "1700000000" + ` + seq))}`
