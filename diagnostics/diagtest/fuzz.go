package diagtest

import (
	"flag"
	"fmt"
	"time"
)

// FuzzInputLimit is how long one fuzz input may take.
const FuzzInputLimit = time.Second

// FuzzGuard bounds one fuzz input: call it first in the fuzz function and defer what it
// returns. In a fuzzing worker (go test -fuzz) an input that takes longer than
// FuzzInputLimit crashes the worker, and the fuzzer records the input as a failure (under
// testdata/fuzz) so a slow, super-linear input is found and kept like a crashing one. In a
// plain `go test` run, which replays the seeds on a machine that may be loaded, it does nothing.
func FuzzGuard() (stop func()) {
	if f := flag.Lookup("test.fuzzworker"); f == nil || f.Value.String() != "true" {
		return func() {}
	}
	start := time.Now()
	t := time.AfterFunc(FuzzInputLimit, func() {
		panic(fmt.Sprintf("a fuzz input took more than %v (started %v ago)", FuzzInputLimit, time.Since(start).Round(time.Millisecond)))
	})
	return func() { t.Stop() }
}
