package wire

import (
	"fmt"
	"testing"
)

// TestTranscriptRoom: a transcript keeps its first lines in the room it
// was given, grows past it as a slice does, ignores a room given after
// its first line, and what Lines returned is not changed by lines
// recorded after.
func TestTranscriptRoom(t *testing.T) {
	var room [3]string
	var tr Transcript
	tr.Room(room[:0])
	for range 3 {
		tr.Server("250 ok")
	}
	if room != [3]string{"S: 250 ok", "S: 250 ok", "S: 250 ok"} {
		t.Errorf("room holds %q", room)
	}
	before := tr.Lines()
	tr.Room(make([]string, 0, 100)) // too late: a no-op
	tr.Note("past the room")
	if got := tr.Lines(); len(got) != 4 || got[3] != "-- past the room" || room[2] != "S: 250 ok" {
		t.Errorf("lines %q, room %q", got, room)
	}
	if fmt.Sprint(before) != "[S: 250 ok S: 250 ok S: 250 ok]" {
		t.Errorf("the lines returned before changed: %q", before)
	}
}
