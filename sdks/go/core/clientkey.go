package core

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
)

// minRSABits is the server's floor for agent keys.
const minRSABits = 2048

// clientKey is an agent's private key, ready to sign client assertions: the signer, the
// JWS algorithm it signs with and the kid that names its public half on the server.
type clientKey struct {
	signer crypto.Signer
	alg    string // ES256, EdDSA, RS256 or PS256
	kid    string
}

// keyErrorPrefix starts every keyError; a key other than the agent's (the DPoP key) swaps
// it for its own name.
const keyErrorPrefix = "the private key cannot be used: "

// keyError is a private key that cannot be used. Its text never quotes the key.
func keyError(format string, args ...any) error {
	return &ConfigError{Msg: keyErrorPrefix + fmt.Sprintf(format, args...)}
}

// parseClientKey reads what WithPrivateKey or MANDATE_CLIENT_PRIVATE_KEY gave: PEM or JWK
// text (string or []byte), a JWK as a map, or a crypto.Signer. keyID, when not empty, is
// the kid to send; else the JWK's own kid, else the RFC 7638 thumbprint of the public key
// (the kid the server gives a key registered without one).
func parseClientKey(key any, keyID string) (*clientKey, error) {
	var (
		signer crypto.Signer
		jwk    map[string]any
		err    error
	)
	switch k := key.(type) {
	case string:
		signer, jwk, err = parseKeyText([]byte(k))
	case []byte:
		signer, jwk, err = parseKeyText(k)
	case map[string]any:
		jwk = k
		signer, err = signerFromJWK(k)
	case crypto.Signer:
		signer = k
	default:
		err = keyError("a %T is not a key: give PEM or JWK text, a JWK map or a crypto.Signer", key)
	}
	if err != nil {
		return nil, err
	}
	pub, err := publicOf(signer)
	if err != nil {
		return nil, err
	}
	alg, err := algorithmOf(pub, jwkString(jwk, "alg"))
	if err != nil {
		return nil, err
	}
	kid := keyID
	if kid == "" {
		kid = jwkString(jwk, "kid")
	}
	if kid == "" {
		if kid, err = thumbprint(pub); err != nil {
			return nil, err
		}
	}
	return &clientKey{signer: signer, alg: alg, kid: kid}, nil
}

// publicOf is signer.Public(), which panics for a nil or truncated key (a nil
// *rsa.PrivateKey, an empty ed25519.PrivateKey): that is a configuration error too.
func publicOf(signer crypto.Signer) (pub crypto.PublicKey, err error) {
	defer func() {
		if recover() != nil {
			pub, err = nil, keyError("the %T holds no usable key", signer)
		}
	}()
	return signer.Public(), nil
}

// parseKeyText tells PEM from JWK by the first characters. Environment variables often
// carry a PEM with its newlines written as \n, so those are turned back into newlines.
func parseKeyText(text []byte) (crypto.Signer, map[string]any, error) {
	text = bytes.TrimSpace(text)
	switch {
	case bytes.HasPrefix(text, []byte("-----BEGIN")):
		if !bytes.Contains(text, []byte("\n")) {
			text = bytes.ReplaceAll(text, []byte(`\n`), []byte("\n"))
		}
		signer, err := signerFromPEM(text)
		return signer, nil, err
	case bytes.HasPrefix(text, []byte("{")):
		var jwk map[string]any
		// The decoder's message could quote the text; say only what went wrong.
		if json.Unmarshal(text, &jwk) != nil {
			return nil, nil, keyError("it starts like a JWK but is not valid JSON")
		}
		signer, err := signerFromJWK(jwk)
		return signer, jwk, err
	case len(text) == 0:
		return nil, nil, keyError("it is empty")
	default:
		return nil, nil, keyError("it is neither PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (a JSON object)")
	}
}

func signerFromPEM(text []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, keyError("the PEM block is malformed")
	}
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, keyError("the PEM key is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)")
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, keyError("the PEM block is a %s, not a private key", strings.ToLower(block.Type))
	default:
		return nil, keyError("PEM blocks of type %q are not supported; use PKCS#8 (BEGIN PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, keyError("the %s PEM block does not parse", block.Type)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, keyError("a %T cannot sign", parsed)
	}
	return signer, nil
}

// algorithmOf is the JWS algorithm of a public key: ES256 for P-256, EdDSA for Ed25519,
// RS256 for RSA unless the JWK asks for PS256. Other keys are refused as the server
// refuses them.
func algorithmOf(pub crypto.PublicKey, jwkAlg string) (string, error) {
	var alg string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", keyError("EC keys must be on P-256, not %s", k.Curve.Params().Name)
		}
		alg = "ES256"
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", keyError("the Ed25519 key is %d bytes, not %d", len(k), ed25519.PublicKeySize)
		}
		alg = "EdDSA"
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return "", keyError("RSA keys need at least %d bits; this one has %d", minRSABits, bits)
		}
		alg = "RS256"
		if jwkAlg == "PS256" {
			alg = "PS256"
		}
	default:
		return "", keyError("%T keys are not supported: use EC P-256, Ed25519 or RSA", pub)
	}
	if jwkAlg != "" && jwkAlg != alg {
		return "", keyError("the JWK's alg %s does not suit a %s key", jwkAlg, alg)
	}
	return alg, nil
}

// publicJWK is the public half of a key as a JWK holding only RFC 7638's required members,
// in lexicographic order and without whitespace: the form a DPoP proof's jwk header takes,
// and the exact input of the key's thumbprint.
func publicJWK(pub crypto.PublicKey) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		point, err := k.ECDH()
		if err != nil {
			return "", keyError("the EC public key is invalid")
		}
		raw := point.Bytes() // 0x04 ‖ x ‖ y, each 32 bytes for P-256
		return fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, b64(raw[1:33]), b64(raw[33:])), nil
	case ed25519.PublicKey:
		return fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, b64(k)), nil
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(e), b64(k.N.Bytes())), nil
	default:
		return "", keyError("%T keys are not supported", pub)
	}
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public key, base64url.
func thumbprint(pub crypto.PublicKey) (string, error) {
	members, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(members))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// signerFromJWK builds the private key of an EC P-256, OKP Ed25519 or RSA JWK and checks
// that its public members belong to it.
func signerFromJWK(jwk map[string]any) (crypto.Signer, error) {
	if _, ok := jwk["d"]; !ok {
		return nil, keyError("the JWK has no private member d: it is a public key")
	}
	switch kty := jwkString(jwk, "kty"); kty {
	case "EC":
		return ecFromJWK(jwk)
	case "OKP":
		return ed25519FromJWK(jwk)
	case "RSA":
		return rsaFromJWK(jwk)
	default:
		return nil, keyError("JWKs of kty %q are not supported: use EC, OKP or RSA", kty)
	}
}

func ecFromJWK(jwk map[string]any) (crypto.Signer, error) {
	if crv := jwkString(jwk, "crv"); crv != "P-256" {
		return nil, keyError("EC keys must be on P-256, not %q", crv)
	}
	d, err := jwkBytes(jwk, "d", 32)
	if err != nil {
		return nil, err
	}
	// crypto/ecdh checks that d is a valid scalar and computes the public point from it.
	priv, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		return nil, keyError("the JWK's d is not a P-256 private scalar")
	}
	point := priv.PublicKey().Bytes()
	if err := jwkMatches(jwk, "x", point[1:33]); err != nil {
		return nil, err
	}
	if err := jwkMatches(jwk, "y", point[33:]); err != nil {
		return nil, err
	}
	return &ecdsa.PrivateKey{
		PublicKey: ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(point[1:33]), Y: new(big.Int).SetBytes(point[33:])},
		D:         new(big.Int).SetBytes(d),
	}, nil
}

func ed25519FromJWK(jwk map[string]any) (crypto.Signer, error) {
	if crv := jwkString(jwk, "crv"); crv != "Ed25519" {
		return nil, keyError("OKP keys must be Ed25519, not %q", crv)
	}
	seed, err := jwkBytes(jwk, "d", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if err := jwkMatches(jwk, "x", priv.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return priv, nil
}

func rsaFromJWK(jwk map[string]any) (crypto.Signer, error) {
	ints := map[string]*big.Int{}
	for _, member := range []string{"n", "e", "d", "p", "q"} {
		raw, err := jwkBytes(jwk, member, 0)
		if err != nil {
			return nil, err
		}
		ints[member] = new(big.Int).SetBytes(raw)
	}
	if !ints["e"].IsInt64() || ints["e"].Int64() > 1<<31-1 {
		return nil, keyError("the JWK's e is too large")
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: ints["n"], E: int(ints["e"].Int64())},
		D:         ints["d"],
		Primes:    []*big.Int{ints["p"], ints["q"]},
	}
	if key.N.BitLen() < minRSABits {
		return nil, keyError("RSA keys need at least %d bits; this one has %d", minRSABits, key.N.BitLen())
	}
	if key.Validate() != nil {
		return nil, keyError("the JWK's RSA members do not form a valid key")
	}
	key.Precompute()
	return key, nil
}

func jwkString(jwk map[string]any, member string) string {
	s, _ := jwk[member].(string)
	return s
}

// jwkBytes decodes a base64url member; size, when not zero, is the length it must have.
func jwkBytes(jwk map[string]any, member string, size int) ([]byte, error) {
	text := jwkString(jwk, member)
	if text == "" {
		return nil, keyError("the JWK has no %s member", member)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(text, "="))
	if err != nil {
		return nil, keyError("the JWK's %s is not base64url", member)
	}
	if size != 0 && len(raw) != size {
		return nil, keyError("the JWK's %s must be %d bytes, not %d", member, size, len(raw))
	}
	return raw, nil
}

// jwkMatches checks an optional public member against the value computed from d, so a
// JWK whose halves were mixed up fails here and not, less clearly, at the server.
func jwkMatches(jwk map[string]any, member string, want []byte) error {
	if _, ok := jwk[member]; !ok {
		return nil
	}
	got, err := jwkBytes(jwk, member, len(want))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return keyError("the JWK's %s does not belong to its d", member)
	}
	return nil
}
