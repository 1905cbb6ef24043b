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

	// The domain-health monitors (docs/domain-health.md).
	Listed         Code = "listed"
	LookupRefused  Code = "lookup_refused"
	RecordMissing  Code = "record_missing"
	RecordInvalid  Code = "record_invalid"
	PolicyMismatch Code = "policy_mismatch"
	TLSAMismatch   Code = "tlsa_mismatch"
	DNSSECInvalid  Code = "dnssec_invalid"
)

// message is the text shown to people for each code; "" for none. A
// switch, not a map: nothing to build at start-up.
func message(c Code) string {
	switch c {
	case ConfigMissing:
		return "Configuration information for this item is missing some required fields"
	case DNSFailed:
		return "Could not obtain an IP address for the remote device"
	case ConnectFailed:
		return "Unable to connect to the remote device"
	case Timeout:
		return "The remote device timed out before sending a response"
	case Disconnected:
		return "Unexpected disconnection from the remote device"
	case ProtocolViolation:
		return "The response from the remote device does not adhere to protocol specification"
	case ServiceError:
		return "The remote device answered with an error"
	case TLSUnavailable:
		return "STARTTLS was required but is not offered"
	case TLSFailed:
		return "The TLS handshake failed"
	case CertInvalid:
		return "The certificate is expired, not yet valid, untrusted or for another host"
	case AuthFailed:
		return "The server rejected the credentials"
	case AuthUnsupported:
		return "The server does not offer the authentication mechanism the monitor asks for"
	case SendRejected:
		return "The SMTP server refused the probe message"
	case NotDelivered:
		return "The probe message did not arrive before the test expired"
	case DeliveredToJunk:
		return "The probe message arrived in the junk folder"
	case Listed:
		return "The address or domain is on a blocklist"
	case LookupRefused:
		return "The blocklist refused to answer the query"
	case RecordMissing:
		return "A DNS record the domain needs is missing"
	case RecordInvalid:
		return "A DNS record of the domain is malformed or weak"
	case PolicyMismatch:
		return "The domain's policy does not cover what it should"
	case TLSAMismatch:
		return "No TLSA record matches the certificate the server presents"
	case DNSSECInvalid:
		return "The DNSSEC signatures of the answer do not validate"
	}
	return ""
}

// Message is the text shown to people for the code.
func (c Code) Message() string {
	if m := message(c); m != "" {
		return m
	}
	return string(c)
}

// Codes lists every code, in the order of the specification.
func Codes() []Code {
	return []Code{ConfigMissing, DNSFailed, ConnectFailed, Timeout, Disconnected,
		ProtocolViolation, ServiceError, TLSUnavailable, TLSFailed, CertInvalid,
		AuthFailed, AuthUnsupported, SendRejected, NotDelivered, DeliveredToJunk,
		Listed, LookupRefused, RecordMissing, RecordInvalid, PolicyMismatch, TLSAMismatch, DNSSECInvalid}
}
