package sqlstore

// SetRollReadRows sets how many results a read of the hourly roll-up
// takes, about, until the test ends.
func SetRollReadRows(t interface{ Cleanup(func()) }, n int) {
	old := rollReadRows
	rollReadRows = n
	t.Cleanup(func() { rollReadRows = old })
}
