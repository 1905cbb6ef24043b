package probe

// Code is a stable identifier of why a test failed (each documented in docs/troubleshooting.md).
type Code string

// The error codes. Their identifiers never change; the messages are what
// people read.
const (
	ConfigMissing     Code = "config_missing"
	DNSFailed         Code = "dns_failed"
	ConnectFailed     Code = "connect_failed"
	Timeout           Code = "timeout"
	Disconnected      Code = "disconnected"
	ProtocolViolation Code = "protocol_violation"
	ServiceError      Code = "service_error"
	TLSUnavailable    Code = "tls_unavailable"
	TLSFailed         Code = "tls_failed"
	CertInvalid       Code = "cert_invalid"
	AuthFailed        Code = "auth_failed"
	AuthUnsupported   Code = "auth_unsupported"
	SendRejected      Code = "send_rejected"
	NotDelivered      Code = "not_delivered"
	DeliveredToJunk   Code = "delivered_to_junk"
	AuthResultsFailed Code = "auth_results" // a round trip's Authentication-Results verdict other than pass

	// The domain-health monitors (docs/domain-health.md).
	Listed         Code = "listed"
	LookupRefused  Code = "lookup_refused"
	RecordMissing  Code = "record_missing"
	RecordInvalid  Code = "record_invalid"
	PolicyMismatch Code = "policy_mismatch"
	TLSAMismatch   Code = "tlsa_mismatch"
	DNSSECInvalid  Code = "dnssec_invalid"
)

var messages = map[Code]string{
	ConfigMissing:     "Configuration information for this item is missing some required fields",
	DNSFailed:         "Could not obtain an IP address for the remote device",
	ConnectFailed:     "Unable to connect to the remote device",
	Timeout:           "The remote device timed out before sending a response",
	Disconnected:      "Unexpected disconnection from the remote device",
	ProtocolViolation: "The response from the remote device does not adhere to protocol specification",
	ServiceError:      "The remote device answered with an error",
	TLSUnavailable:    "STARTTLS was required but is not offered",
	TLSFailed:         "The TLS handshake failed",
	CertInvalid:       "The certificate is expired, not yet valid, untrusted or for another host",
	AuthFailed:        "The server rejected the credentials",
	AuthUnsupported:   "The server does not offer the authentication mechanism the monitor asks for",
	SendRejected:      "The SMTP server refused the probe message",
	NotDelivered:      "The probe message did not arrive before the test expired",
	DeliveredToJunk:   "The probe message arrived in the junk folder",
	AuthResultsFailed: "The receiving server's SPF, DKIM or DMARC verdict on the probe message was not pass",
	Listed:            "The address or domain is on a blocklist",
	LookupRefused:     "The blocklist refused to answer the query",
	RecordMissing:     "A DNS record the domain needs is missing",
	RecordInvalid:     "A DNS record of the domain is malformed or weak",
	PolicyMismatch:    "The domain's policy does not cover what it should",
	TLSAMismatch:      "No TLSA record matches the certificate the server presents",
	DNSSECInvalid:     "The DNSSEC signatures of the answer do not validate",
}

// Message is the text shown to people for the code.
func (c Code) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return string(c)
}

// Codes lists every code, in the order of the specification.
func Codes() []Code {
	return []Code{ConfigMissing, DNSFailed, ConnectFailed, Timeout, Disconnected,
		ProtocolViolation, ServiceError, TLSUnavailable, TLSFailed, CertInvalid,
		AuthFailed, AuthUnsupported, SendRejected, NotDelivered, DeliveredToJunk, AuthResultsFailed,
		Listed, LookupRefused, RecordMissing, RecordInvalid, PolicyMismatch, TLSAMismatch, DNSSECInvalid}
}
