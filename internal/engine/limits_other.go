//go:build !unix

package engine

func openFilesLimit() uint64 { return 0 }
