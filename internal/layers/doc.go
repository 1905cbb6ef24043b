// Package layers holds no code: its test checks the import rules between
// mailmon's packages that docs/architecture.md draws, from `go list -deps`.
package layers
