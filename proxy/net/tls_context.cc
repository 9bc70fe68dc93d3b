#include "proxy/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "maps/ip_network.h"
#include "util/regular_file.h"

namespace regiongate {
namespace {

constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
// OpenSSL opens these by name, without O_NONBLOCK: each is checked first to
// be a regular file (util/regular_file.h; a FIFO would block the thread,
// /dev/zero is read without end) of at most 1 MiB (a certificate chain is
// a few KB, Debian's whole CA bundle about 220 KB).
constexpr FileKind kCertificateFile{"certificate file", 1 << 20};
constexpr FileKind kKeyFile{"key file", 1 << 20};
constexpr FileKind kCaFile{"CA file", 1 << 20};

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// OpenSSL calls these (the C boundary: noexcept, nothing can throw here).
int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
              unsigned int inlen, void*) noexcept {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnH2, sizeof kAlpnH2, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol: HTTP/2 only
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// An encrypted key would have OpenSSL ask for its pass phrase on the
// terminal, blocking the thread (a reload's) until someone types: refused,
// and noted in *asked so that the error can say why.
int refuse_pass_phrase(char*, int, int, void* asked) noexcept {
  if (asked) *static_cast<bool*>(asked) = true;
  return -1;
}

SSL_CTX* new_base_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Transport writes whatever SSL_write takes and retries with moved buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // RFC 9113 9.2.2: TLS 1.2 with HTTP/2 needs an AEAD ephemeral suite.
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
  return ctx;
}

}  // namespace

std::unique_ptr<ServerTlsContext> ServerTlsContext::create(
    const std::vector<TlsCertificateFiles>& certs, std::string* error) {
  auto out = std::unique_ptr<ServerTlsContext>(new ServerTlsContext());
  if (certs.empty()) {
    *error = "a TLS listener needs a certificate";
    return nullptr;
  }
  for (const TlsCertificateFiles& c : certs) {
    SslCtxPtr ctx(new_base_context(TLS_server_method()));
    if (!ctx) {
      *error = "TLS: " + openssl_error();
      return nullptr;
    }
    std::string why;
    if (!check_regular_file(c.cert_file, kCertificateFile, &why)) {
      *error = "cannot load certificate '" + c.cert_file + "': " + why;
      return nullptr;
    }
    if (!check_regular_file(c.key_file, kKeyFile, &why)) {
      *error = "cannot load key '" + c.key_file + "' for certificate '" + c.cert_file + "': " + why;
      return nullptr;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.cert_file.c_str()) != 1) {
      *error = "cannot load certificate '" + c.cert_file + "': " + openssl_error();
      return nullptr;
    }
    bool asked_for_pass_phrase = false;
    SSL_CTX_set_default_passwd_cb(ctx.get(), refuse_pass_phrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), &asked_for_pass_phrase);
    const int loaded = SSL_CTX_use_PrivateKey_file(ctx.get(), c.key_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), nullptr);
    if (loaded != 1) {
      // OpenSSL 3 also fails here on a key that does not match the certificate.
      *error = "cannot load key '" + c.key_file + "' for certificate '" + c.cert_file + "': " +
               (asked_for_pass_phrase ? "the key is encrypted (give it unencrypted, readable only "
                                        "by regiongate's user)"
                                      : openssl_error());
      ERR_clear_error();
      return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      *error = "key '" + c.key_file + "' does not match certificate '" + c.cert_file + "'";
      ERR_clear_error();
      return nullptr;
    }
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_h2, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx.get(), on_server_name);
    SSL_CTX_set_tlsext_servername_arg(ctx.get(), out.get());
    out->contexts_.push_back(std::move(ctx));
  }
  return out;
}

int ServerTlsContext::on_server_name(SSL* ssl, int*, void* arg) noexcept {
  auto* self = static_cast<ServerTlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || self->contexts_.size() == 1) return SSL_TLSEXT_ERR_OK;
  for (const SslCtxPtr& ctx : self->contexts_) {
    X509* cert = SSL_CTX_get0_certificate(ctx.get());
    // X509_check_host: SAN dNSNames (CN only when there are none), RFC 6125 wildcards.
    if (cert && X509_check_host(cert, name, std::strlen(name), 0, nullptr) == 1) {
      SSL_set_SSL_CTX(ssl, ctx.get());
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

SSL* ServerTlsContext::new_connection(int fd) const {
  SSL* ssl = SSL_new(contexts_.front().get());
  if (!ssl) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_accept_state(ssl);
  return ssl;
}

std::unique_ptr<ClientTlsContext> ClientTlsContext::create(const std::string& ca_file,
                                                           bool verify, std::string* error) {
  auto out = std::unique_ptr<ClientTlsContext>(new ClientTlsContext());
  out->context_.reset(new_base_context(TLS_client_method()));
  if (!out->context_) {
    *error = "TLS: " + openssl_error();
    return nullptr;
  }
  SSL_CTX* ctx = out->context_.get();
  SSL_CTX_set_alpn_protos(ctx, kAlpnH2, sizeof kAlpnH2);
  out->verify_ = verify;
  if (verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (std::string why; !ca_file.empty() && !check_regular_file(ca_file, kCaFile, &why)) {
      *error = "cannot load CA file '" + ca_file + "': " + why;
      return nullptr;
    }
    int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                             : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    if (ok != 1) {
      *error = "cannot load CA file '" + ca_file + "': " + openssl_error();
      return nullptr;
    }
  }
  return out;
}

SSL* ClientTlsContext::new_connection(int fd, const std::string& host,
                                      const std::string& server_name) const {
  SSL* ssl = SSL_new(context_.get());
  if (!ssl) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  if (!server_name.empty()) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (verify_) {
    // The name we expect: the SNI name when given, else the host itself.
    const std::string& expected = server_name.empty() ? host : server_name;
    if (IpAddress::parse(expected)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), expected.c_str());
    } else {
      SSL_set1_host(ssl, expected.c_str());
    }
  }
  return ssl;
}

bool negotiated_h2(SSL* ssl) {
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  return len == 2 && std::memcmp(proto, "h2", 2) == 0;
}

}  // namespace regiongate
