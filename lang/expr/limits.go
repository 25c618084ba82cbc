package expr

// Every limit that bounds what an expression may cost, at compile time and at
// evaluation time, lives in this file. Changing one changes which
// configurations validate (or which records fail), so each change is a
// behaviour change worth a CHANGELOG line.

const (
	// CostLimit is the most an evaluation of one program on one record may
	// cost, in cel-go cost units. One unit is roughly one cheap step: reading
	// a variable, selecting a field, comparing, calling a simple function;
	// string functions add about one unit per ten bytes they touch (sha256
	// too), building a list or a map adds 10 or 30, and a comprehension
	// (all, exists, map, filter) pays for its body once per element.
	//
	// Expressions written for records cost tens of units (`value.amount >=
	// 10` costs 3, the generator value of the quickstart example 41), and
	// reshaping every element of an array of 10,000 items with a map
	// literal (50 units an item) still fits. What does not fit is work
	// quadratic in the data or runaway nesting: the evaluation then fails
	// with ErrCostLimit instead of stalling its task.
	//
	// Measured on the project's 2-core machine, reaching the limit takes
	// 0.1 to 0.7 s. Most of that is cel-go v0.31.0's cost tracker, whose
	// bookkeeping grows with every comprehension iteration and makes one
	// long comprehension quadratic: all() over 10,000 elements takes ~0.3 s
	// with the tracker and ~2 ms without it. That is why ListsMaxRangeSize
	// is small. A fixed cel-go would let the same limit stop in ~0.1 s.
	CostLimit = 1_000_000

	// MaxRecordValueSize is the largest size (string length, bytes, list
	// or map entries) the static cost estimate assumes for a record's
	// values: Kafka's default message limit is 1 MiB, so nothing in a
	// record is larger.
	MaxRecordValueSize = 1 << 20

	// MaxSourceBytes is the longest expression source, in bytes, that
	// Compile accepts; a longer one is an Issue and is not parsed. Sources
	// are HCL attribute values: the longest a person writes is a generator's
	// record literal of a few hundred bytes. The limit keeps a mistaken
	// interpolation (a whole file pasted into an expression) from costing a
	// parse.
	MaxSourceBytes = 32 << 10

	// ParserRecursionLimit bounds the nesting depth of the parse tree
	// (parentheses, nested calls, chained operators). cel-go's default is
	// 250; 128 leaves room for any hand-written expression while keeping
	// compilation of adversarial input cheap in stack and time.
	ParserRecursionLimit = 128

	// ParserErrorRecoveryLimit bounds how often the parser tries to recover
	// after a syntax error before it gives up on the rest of the source
	// (cel-go's default is 30). Enough to report several independent
	// mistakes in one run; bounded so that garbage input fails fast.
	ParserErrorRecoveryLimit = 30

	// ExpressionNodeLimit bounds the number of AST nodes of a parsed
	// expression, macro expansions included (cel-go's default is 100,000).
	// The quickstart example's generator value has about 30.
	ExpressionNodeLimit = 10_000

	// There is no regex program size limit: cel-go v0.31.0's
	// RegexProgramSizeLimit compiles patterns without simplifying them and
	// panics on any counted repetition such as [0-9]{3}. Go's regexp already
	// caps a repetition count at 1000, rejects patterns whose program is too
	// large, and matches in linear time.

	// ListsMaxRangeSize is the largest list that lists.range(n) may build
	// (cel-go's default is 1,000,000). The list is allocated before its use
	// is costed, and one comprehension over a list costs time quadratic in
	// its length under cel-go's cost tracker (see CostLimit): 10,000
	// elements keep that near 0.3 s.
	ListsMaxRangeSize = 10_000
)
