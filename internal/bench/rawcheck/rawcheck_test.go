package rawcheck

import "testing"

func TestPickSharesEachHundred(t *testing.T) {
	shares := []int{10, 45, 45}
	for _, from := range []int{0, 100, 99900} {
		n := make([]int, 3)
		for i := from; i < from+100; i++ {
			n[Pick(shares, i)]++
		}
		if n[0] != 10 || n[1] != 45 || n[2] != 45 {
			t.Errorf("tests %d–%d: %v per kind, want 10, 45, 45", from, from+99, n)
		}
	}
	if Pick(shares, 9) != 0 || Pick(shares, 10) != 1 || Pick(shares, 55) != 2 || Pick(shares, 110) != 1 {
		t.Error("the kinds do not take their shares in turn within a hundred")
	}
	if Pick([]int{100}, 12345) != 0 {
		t.Error("a single kind is not picked for every test")
	}
}
