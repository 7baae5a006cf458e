//go:build !unix

package sharpapitest

// openNonBlocking is 0 where named pipes cannot sit in a directory as
// files do on Unix.
const openNonBlocking = 0
