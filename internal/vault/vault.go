// Package vault encrypts secrets at rest (passwords, tokens, keys of
// monitors, alerts and credentials) with AES-256-GCM. The key comes from
// MAILMON_SECRET_KEY or from a key file created on first start with mode
// 0600. Each sealed value is bound to the record it belongs to, so that a
// ciphertext copied to another record does not decrypt there.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/keyfile"
)

// EnvVar names the environment variable that may hold the key.
const EnvVar = "MAILMON_SECRET_KEY"

// KeyFile is the name of the key's file in its directory (beside a SQLite
// database).
const KeyFile = "storage.key"

// Vault seals and opens secrets.
type Vault struct {
	aead cipher.AEAD
}

// Load reads (or creates) the key: $MAILMON_SECRET_KEY, else the file
// KeyFile in dir, created with mode 0600 when missing.
func Load(dir string, getenv func(string) string) (*Vault, error) {
	k, err := keyfile.Source{Dir: dir, Getenv: getenv, Env: EnvVar, Name: KeyFile}.Load()
	if err != nil {
		return nil, err
	}
	return New(k)
}

// New makes a vault from key material of at least keyfile.MinLen bytes.
func New(key []byte) (*Vault, error) {
	if len(key) < keyfile.MinLen {
		return nil, errors.New("vault: key too short")
	}
	k := sha256.Sum256(key) // any long enough secret becomes a 256-bit key
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Vault{aead: aead}, nil
}

const prefix = "v1:"

// ErrOpen is returned for a value that does not decrypt: another key,
// another record, or tampering.
var ErrOpen = errors.New("vault: secret does not decrypt (wrong key or record)")

// Record names a sealed value for Seal and Open: the kind of row that holds
// it (monitor, alert, credential), the row's id and the secret's name, as
// "monitor/12/password".
func Record(kind string, id int64, name string) string {
	return kind + "/" + strconv.FormatInt(id, 10) + "/" + name
}

// MonitorRecord names a monitor's secret ("password", "smtp.password").
func MonitorRecord(id int64, name string) string { return Record("monitor", id, name) }

// AlertRecord names an alert's secret ("relay.password", "webhook.url").
func AlertRecord(id int64, name string) string { return Record("alert", id, name) }

// CredentialRecord names a credential's secret ("password" or "key").
func CredentialRecord(id int64, name string) string { return Record("credential", id, name) }

// Seal encrypts plaintext for the record named by record (e.g.
// "monitor/12/password").
func (v *Vault) Seal(plaintext []byte, record string) (string, error) {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := v.aead.Seal(nonce, nonce, plaintext, []byte(record))
	return prefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts what Seal made for the same record.
func (v *Vault) Open(sealed, record string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrOpen
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < v.aead.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := v.aead.Open(nil, b[:v.aead.NonceSize()], b[v.aead.NonceSize():], []byte(record))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
