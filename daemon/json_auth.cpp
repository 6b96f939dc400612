// SPDX-License-Identifier: MIT
// Tokens on /ws (README "Securing wsrelay"): {"op":"auth","token":...} first (with
// auth.mode required nothing else is taken before it), {"op":"refresh","token":...} to
// replace the identity before it expires (same sub), and the channel rights of each
// subscribe and publish request, decided once per request, never per delivery.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "json_protocol.h"
#include "server.h"

namespace relay::daemon {
namespace {

const auth::Identity* identity_of(const Client* c) noexcept {
  return c->ws->auth && c->ws->auth->who ? &*c->ws->auth->who : nullptr;
}

std::string encode_auth_ack(std::string_view id_json, const auth::Identity& who) {
  std::string out = "{\"id\":";
  out.append(id_json.empty() ? "null" : id_json).append(",\"ok\":true,\"sub\":");
  out.append(
      nlohmann::json(who.sub).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  out.append(",\"exp\":").append(who.exp ? std::to_string(who.exp) : "null").append("}");
  return out;
}

}  // namespace

bool JsonProtocol::before_auth_ok(Client* c, const wire::Request* req,
                                  std::string_view id_json) noexcept {
  const AuthRuntime& a = server_.auth();
  if (a.mode != auth::AuthMode::kRequired || identity_of(c)) return true;
  if (req && req->op == wire::Op::kAuth) return true;
  server_.stats().count_auth_failure(kAuthMissingSlot);
  send_text(
      c, wire::encode_error(id_json, wire::code::kUnauthorized, "the first request must be auth"));
  server_.begin_close(c, auth_close::kUnauthorized, "unauthorized", 1000);
  return false;
}

void JsonProtocol::on_auth(Client* c, wire::Request& req) noexcept {
  const AuthRuntime& a = server_.auth();
  auto reply_error = [&](int code, std::string_view reason) {
    send_text(c, wire::encode_error(req.id_json, code, reason));
  };
  if (!a.enabled()) return reply_error(wire::code::kBadRequest, "tokens are off (auth.mode none)");
  const auth::Identity* current = identity_of(c);
  if (req.op == wire::Op::kAuth && current)
    return reply_error(wire::code::kAlreadySubscribed, "already authenticated: use refresh");
  if (req.op == wire::Op::kRefresh && !current)
    return reply_error(wire::code::kBadRequest, "refresh needs an earlier auth");
  auth::VerifyResult r = a.verify(req.payload);
  if (!r.ok()) {
    server_.stats().count_auth_failure(size_t(r.failure));
    spdlog::debug("client {}: token refused ({})", c->id, auth::failure_name(r.failure));
    reply_error(wire::code::kUnauthorized,
                "invalid token: " + std::string(auth::failure_name(r.failure)));
    // Required: a failed first auth ends the connection. A failed refresh keeps the old
    // identity until it expires; optional: the client stays anonymous.
    if (a.mode == auth::AuthMode::kRequired && !current)
      server_.begin_close(c, auth_close::kUnauthorized, "unauthorized", 1000);
    return;
  }
  if (current && r.identity.sub != current->sub)
    return reply_error(wire::code::kForbidden, "refresh must keep the same sub");
  const std::string ack = encode_auth_ack(req.id_json, r.identity);
  if (server_.set_identity(c, std::move(r.identity))) send_text(c, ack);
}

bool JsonProtocol::may(Client* c, const wire::Request& req, const ChannelOptions& opts) noexcept {
  const AuthRuntime& a = server_.auth();
  if (!a.enabled()) return true;
  const auth::Identity* who = identity_of(c);
  const auth::Access access = req.op == wire::Op::kPublish
                                  ? auth::may_publish(a.mode, who, req.channel, opts.access)
                                  : auth::may_subscribe(a.mode, who, req.channel, opts.access);
  if (access == auth::Access::kAllowed) return true;
  const bool anonymous = access == auth::Access::kUnauthenticated;
  send_text(
      c, wire::encode_error(
             req.id_json, anonymous ? wire::code::kUnauthorized : wire::code::kForbidden,
             anonymous ? "this channel needs a token" : "the token does not grant this channel"));
  return false;
}

}  // namespace relay::daemon
