package corral

// TLS and bearer-token options of DialWith: the same as the TS client's ConnectOptions
// (client/channel-credentials.ts) and the Python client's connect(tls=..., token=...).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// TLSOptions are PEM file paths. CA signed the daemon's certificate (empty: the system's
// roots); Cert and Key are a client certificate for mTLS; ServerName is the name to check the
// daemon's certificate against when the address does not carry it.
type TLSOptions struct {
	CA, Cert, Key, ServerName string
}

// Options for DialWith. TLS nil means a plain channel (the Unix socket, or loopback TCP).
// Token (or the first line of TokenFile) is sent as "authorization: Bearer <token>".
type Options struct {
	TLS       *TLSOptions
	Token     string
	TokenFile string
}

func tlsConfig(o *TLSOptions) (*tls.Config, error) {
	config := &tls.Config{ServerName: o.ServerName, MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("cannot read the TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the TLS CA file %s holds no PEM certificate", o.CA)
		}
		config.RootCAs = pool
	}
	if (o.Cert == "") != (o.Key == "") {
		return nil, errors.New("TLS client certificate and key go together: give both or neither")
	}
	if o.Cert != "" {
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("cannot load the TLS client certificate %s: %w", o.Cert, err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// ReadTokenFile returns the token in a file: its first line, trimmed.
func ReadTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the token file: %w", err)
	}
	token := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	if token == "" {
		return "", fmt.Errorf("the token file %s is empty", path)
	}
	return token, nil
}

// bearerToken sends the token with every call; it allows plain channels, since loopback TCP
// without TLS is a valid (if weak) setup.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return false }

// String never shows the token.
func (bearerToken) String() string { return "bearerToken(***)" }

func dialOptionsOf(target string, o Options) ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if o.TLS != nil {
		if strings.HasPrefix(target, "unix:") {
			return nil, fmt.Errorf("TLS is for TCP addresses, not the Unix socket %s", target)
		}
		config, err := tlsConfig(o.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	}
	token := o.Token
	if token == "" && o.TokenFile != "" {
		var err error
		if token, err = ReadTokenFile(o.TokenFile); err != nil {
			return nil, err
		}
	}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken(token)))
	}
	return opts, nil
}
