package realmail

import (
	"bytes"
	"fmt"
	"regexp"
	"text/template"
)

// confData fills both daemons' configuration templates.
type confData struct {
	Env          *Env
	PostfixDir   string // config_directory
	QueueDir     string
	DataDir      string
	BaseDir      string // Dovecot base_dir
	StateDir     string
	LogDir       string
	PostfixLog   string // the master's stdout and stderr
	DovecotLog   string
	CertFile     string
	KeyFile      string
	AuthSocket   string // Dovecot SASL for Postfix smtpd
	LMTPSocket   string // Dovecot LMTP for Postfix delivery
	UsersFile    string
	VMailbox     string // Postfix virtual_mailbox_maps (texthash, no postmap needed)
	HeaderChecks string // Postfix header_checks (regexp): the Authentication-Results it adds
	MailDir      string
	MailUID      int
	Hosts        []string // master.cf listen hosts: "127.0.0.1" and "[::1]"

	OAuth2     *OAuth2 // nil: no oauth2 passdb (the default)
	OAuth2Conf string  // its dovecot-oauth2.conf.ext
	OAuth2CA   string  // the authorization server's CA, readable by Dovecot's auth
}

// Postfix: every service runs unchrooted (chroot = n), so the absolute
// socket paths under Dir work. No DNS at all, no local delivery, no
// relaying: mail for Domain goes to Dovecot over LMTP, everything else is
// refused at RCPT time, and anything that still reaches a transport meets
// the error transport instead of the network.
var mainCF = template.Must(template.New("main.cf").Parse(`# realmail test harness: a private Postfix instance on loopback.
compatibility_level = 3.6
queue_directory = {{.QueueDir}}
data_directory = {{.DataDir}}
mail_owner = postfix
setgid_group = postdrop
# master -s keeps stdout, and postlogd inherits it: the harness copies
# it into PostfixLog. The master's own fatal errors come this way too, where
# a log file would only start with postlogd.
maillog_file = /dev/stdout
readme_directory = no
biff = no

myhostname = mail.{{.Env.Domain}}
mydomain = {{.Env.Domain}}
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = {{if .Env.IPv6}}all{{else}}ipv4{{end}}
mynetworks = 127.0.0.0/8{{if .Env.IPv6}} [::1]/128{{end}}
alias_maps =
alias_database =
local_recipient_maps =
relayhost =

smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no

virtual_mailbox_domains = {{.Env.Domain}}
virtual_mailbox_maps = texthash:{{.VMailbox}}
virtual_transport = lmtp:unix:{{.LMTPSocket}}
local_transport = error:local delivery is disabled in the realmail harness
default_transport = error:outbound mail is disabled in the realmail harness
relay_transport = error:outbound mail is disabled in the realmail harness

smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0
in_flow_delay = 0
delay_warning_time = 0

# The Authentication-Results header a receiving server's milter would add,
# by the EHLO name the client said (it stands in the Received header
# smtpd adds, the first header cleanup reads): AuthResultsFor.
header_checks = regexp:{{.HeaderChecks}}

smtpd_tls_cert_file = {{.CertFile}}
smtpd_tls_key_file = {{.KeyFile}}
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_received_header = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {{.AuthSocket}}
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
`))

// Listeners carry an explicit loopback address, so nothing ever listens on
// a public interface whatever inet_interfaces says.
var masterCF = template.Must(template.New("master.cf").Parse(`# service type  private unpriv  chroot  wakeup  maxproc command + args
{{- $e := .Env}}
{{- range .Hosts}}
{{.}}:{{$e.SMTP}} inet n - n - - smtpd
{{.}}:{{$e.SMTPNoTLS}} inet n - n - - smtpd
  -o smtpd_tls_security_level=none
{{.}}:{{$e.Submission}} inet n - n - - smtpd
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
{{.}}:{{$e.SubmissionPlain}} inet n - n - - smtpd
  -o smtpd_tls_auth_only=no
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
{{.}}:{{$e.SMTPS}} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
{{- end}}
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
`))

// Dovecot: one self-contained file (no conf.d includes), run as root by the
// harness; mail belongs to the system user "mail", so first_valid_uid must
// come down to its uid (8 on Debian; the default floor is 500).
var dovecotConf = template.Must(template.New("dovecot.conf").Parse(`# realmail test harness: a private Dovecot instance on loopback.
protocols = imap pop3 lmtp
listen = 127.0.0.1{{if .Env.IPv6}}, ::1{{end}}
base_dir = {{.BaseDir}}
state_dir = {{.StateDir}}
instance_name = realmail
log_path = {{.DovecotLog}}
info_log_path = {{.DovecotLog}}
shutdown_clients = yes
default_internal_user = dovecot
default_login_user = dovenull

ssl = yes
ssl_cert = <{{.CertFile}}
ssl_key = <{{.KeyFile}}
ssl_min_protocol = TLSv1.2

disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 apop{{if .OAuth2}} xoauth2 oauthbearer{{end}}
# Failed logins answer at once instead of after 2 s, to keep tests fast.
auth_failure_delay = 0

first_valid_uid = {{.MailUID}}
first_valid_gid = 1
mail_location = maildir:{{.MailDir}}/%d/%n/Maildir
postmaster_address = postmaster@{{.Env.Domain}}

namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}

{{- if .OAuth2}}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {{.OAuth2Conf}}
}
{{- end}}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {{.UsersFile}}
}
userdb {
  driver = passwd-file
  args = username_format=%u {{.UsersFile}}
  default_fields = uid=mail gid=mail home={{.MailDir}}/%d/%n
}

service imap-login {
  inet_listener imap {
    port = {{.Env.IMAP}}
  }
  inet_listener imaps {
    port = {{.Env.IMAPS}}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = {{.Env.POP3}}
  }
  inet_listener pop3s {
    port = {{.Env.POP3S}}
    ssl = yes
  }
}
service lmtp {
  unix_listener {{.LMTPSocket}} {
    user = postfix
    group = postfix
    mode = 0600
  }
}
# A failed login from an address delays its next logins (2 s, then 4, 8,
# 15): the tests log in wrongly on purpose, from 127.0.0.1 every time. The
# auth process disables the penalty when it cannot reach this socket.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener {{.AuthSocket}} {
    user = postfix
    group = postfix
    mode = 0600
  }
}
`))

// dovecotOAuth2 validates a bearer token by RFC 7662 introspection: the
// token must be active and its username the one logging in.
var dovecotOAuth2 = template.Must(template.New("dovecot-oauth2.conf.ext").Parse(`{{if .OAuth2}}introspection_mode = post
introspection_url = {{.OAuth2.IntrospectURL}}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = {{.OAuth2CA}}
timeout_msecs = 5000
{{end}}`))

// headerChecks prepends, above the Received header of a client that said
// one of AuthResultsFor's EHLO names, that name's Authentication-Results
// header of the harness's Postfix; and ForgedAuthResults before the From
// header of a message from ForgedFromDomain.
func headerChecks(e *Env) []byte {
	var b bytes.Buffer
	for ehlo, verdicts := range AuthResultsFor() {
		fmt.Fprintf(&b, "/^Received: from %s /\n  PREPEND Authentication-Results: %s; %s\n",
			regexp.QuoteMeta(ehlo), e.AuthServID, verdicts)
	}
	fmt.Fprintf(&b, "/^From: .*@%s/\n  PREPEND Authentication-Results: %s\n", regexp.QuoteMeta(ForgedFromDomain), ForgedAuthResults)
	return b.Bytes()
}

func render(t *template.Template, d *confData) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
