// Command miniredis serves an in-memory Redis (miniredis) on a loopback
// port, prints its address, and serves until its standard input closes: the
// redisbus tests' fallback on a machine without redis-server. It is a module
// of its own, never published, so that redisbus's go.mod requires no
// miniredis and no user of redisbus receives it.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/alicebob/miniredis/v2"
)

func main() {
	mr, err := miniredis.Run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "miniredis:", err)
		os.Exit(1)
	}
	defer mr.Close()
	fmt.Println(mr.Addr())
	io.Copy(io.Discard, os.Stdin) // until the test closes it, or exits
}
