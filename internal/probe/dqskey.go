package probe

// CheckDQSKey says what is wrong with a Spamhaus DQS key ("" nothing): it
// becomes the first label of every query name (KEY.zen.dq.spamhaus.net),
// so it is letters and digits, as Spamhaus issues them, and nothing that
// could move the query to another zone.
func CheckDQSKey(key string) string {
	if key == "" || len(key) > 63 {
		return "is the key of a Spamhaus DQS account: 1 to 63 letters and digits"
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "is the key of a Spamhaus DQS account: letters and digits only (no dots, spaces or zone names)"
		}
	}
	return ""
}
