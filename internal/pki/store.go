package pki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names ServerDir keeps in its directory.
const (
	CAFileName        = "ca.pem"
	CAKeyFileName     = "ca-key.pem"
	ServerFileName    = "server.pem"
	ServerKeyFileName = "server-key.pem"
)

// ServerDir is a CA and a server certificate kept in a directory, so that a
// server restarted on the same directory presents a certificate its clients
// already trust.
type ServerDir struct {
	// CAFile is the path of ca.pem, the CA clients must trust.
	CAFile string
	// CAPool holds only that CA.
	CAPool *x509.CertPool
	// Server is the server certificate and key, ready for tls.Config.
	Server tls.Certificate
	// Created names the files written by this call (empty when every file
	// was reused).
	Created []string
}

// ServerSpec says what LoadOrCreateServer must provide.
type ServerSpec struct {
	CAName   string        // common name of a new CA
	Validity time.Duration // how long new certificates stay valid
	DNSNames []string      // names the server certificate must cover
	IPs      []net.IP      // addresses it must cover
}

// LoadOrCreateServer reuses the CA and server certificate in dir and makes
// only what is missing: a CA (ca.pem, and ca-key.pem with mode 0600) when
// there is none, and a server certificate (server.pem, and server-key.pem
// with mode 0600) when there is none, when it has expired or does not
// cover every name in spec; a server certificate is only ever issued by
// the CA in ca.pem, so clients that trust it keep working. A key file left
// readable by others from an older version is narrowed to 0600.
//
// It refuses, naming the file and saying how to start afresh, when a file
// does not parse, when a key does not match its certificate, when
// server.pem was not issued by ca.pem, or when a new server certificate is
// needed but ca-key.pem is missing. It never overwrites a file it could not
// read.
func LoadOrCreateServer(dir string, spec ServerSpec) (*ServerDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, CAFileName)
	caKeyFile := filepath.Join(dir, CAKeyFileName)
	certFile := filepath.Join(dir, ServerFileName)
	keyFile := filepath.Join(dir, ServerKeyFileName)
	afresh := fmt.Sprintf("to start afresh, delete %s, %s, %s and %s (clients then need the new ca.pem)", CAFileName, CAKeyFileName, ServerFileName, ServerKeyFileName)
	d := &ServerDir{CAFile: caFile}

	ca, err := loadCA(caFile, caKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, afresh)
	}
	if ca == nil {
		if exists(certFile) || exists(keyFile) {
			return nil, fmt.Errorf("%s is missing but %s or %s is there: the server certificate's CA is lost; %s", caFile, certFile, keyFile, afresh)
		}
		if ca, err = NewCA(spec.CAName, spec.Validity); err != nil {
			return nil, err
		}
		keyPEM, err := marshalKey(ca.Key)
		if err != nil {
			return nil, err
		}
		if err := writeFile(caKeyFile, keyPEM, 0o600); err != nil {
			return nil, err
		}
		if err := writeFile(caFile, ca.CertPEM, 0o644); err != nil {
			return nil, err
		}
		d.Created = append(d.Created, caFile, caKeyFile)
	}
	d.CAPool = ca.Pool()

	server, why, err := loadServer(certFile, keyFile, ca.Cert, spec)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, afresh)
	}
	if server != nil {
		d.Server = *server
		return d, narrowMode(keyFile)
	}
	if ca.Key == nil {
		return nil, fmt.Errorf("%s needs a new server certificate (%s) but %s, the CA's key, is missing; %s", dir, why, caKeyFile, afresh)
	}
	leaf, err := ca.IssueServer(spec.Validity, spec.DNSNames, spec.IPs)
	if err != nil {
		return nil, err
	}
	if err := writeFile(keyFile, leaf.KeyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certFile, leaf.CertPEM, 0o644); err != nil {
		return nil, err
	}
	d.Server = leaf.TLS
	d.Created = append(d.Created, certFile, keyFile)
	return d, nil
}

// loadCA reads ca.pem and, if present, ca-key.pem. It returns nil, nil
// when neither exists; a CA without Key when only ca.pem does.
func loadCA(certFile, keyFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if errors.Is(err, fs.ErrNotExist) {
		if exists(keyFile) {
			return nil, fmt.Errorf("%s is there but %s is missing", keyFile, certFile)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certFile, certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", certFile)
	}
	ca := &CA{Cert: cert, CertPEM: certPEM}
	keyPEM, err := os.ReadFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return ca, nil // enough to check server.pem; not to issue a new one
	}
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyFile, keyPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s is not the key of the CA in %s", keyFile, certFile)
	}
	ca.Key = key
	return ca, narrowMode(keyFile)
}

// loadServer reads server.pem and server-key.pem. It returns the
// certificate when it can be reused, or nil and why a new one is needed;
// an error when the files cannot be trusted at all.
func loadServer(certFile, keyFile string, ca *x509.Certificate, spec ServerSpec) (*tls.Certificate, string, error) {
	certPEM, errCert := os.ReadFile(certFile)
	keyPEM, errKey := os.ReadFile(keyFile)
	switch {
	case errors.Is(errCert, fs.ErrNotExist) && errors.Is(errKey, fs.ErrNotExist):
		return nil, "there is none", nil
	case errors.Is(errCert, fs.ErrNotExist):
		return nil, "", fmt.Errorf("%s is there but %s is missing", keyFile, certFile)
	case errors.Is(errKey, fs.ErrNotExist):
		return nil, "", fmt.Errorf("%s is there but %s is missing", certFile, keyFile)
	case errCert != nil:
		return nil, "", errCert
	case errKey != nil:
		return nil, "", errKey
	}
	cert, err := parseCert(certFile, certPEM)
	if err != nil {
		return nil, "", err
	}
	if _, err := parseKey(keyFile, keyPEM); err != nil {
		return nil, "", err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, "", fmt.Errorf("%s is not the key of the certificate in %s: %w", keyFile, certFile, err)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return nil, "", fmt.Errorf("%s was not issued by the CA in %s: %w", certFile, CAFileName, err)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, "it expired " + cert.NotAfter.Format(time.RFC3339), nil
	}
	for _, name := range spec.DNSNames {
		if cert.VerifyHostname(name) != nil {
			return nil, "it does not name " + name, nil
		}
	}
	for _, ip := range spec.IPs {
		if cert.VerifyHostname(ip.String()) != nil {
			return nil, "it does not name " + ip.String(), nil
		}
	}
	return &pair, "", nil
}

func parseCert(file string, data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s is corrupt: it holds no PEM CERTIFICATE block", file)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", file, err)
	}
	return c, nil
}

func parseKey(file string, data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("%s is corrupt: it holds no PEM EC PRIVATE KEY block", file)
	}
	k, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", file, err)
	}
	return k, nil
}

func marshalKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pemBlock("EC PRIVATE KEY", der), nil
}

// writeFile writes path with mode perm through a temporary file and a
// rename, so a reader never sees half a file and a key is never, even
// briefly, readable with a wider mode.
func writeFile(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// narrowMode makes a private key file readable by its owner only.
func narrowMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
