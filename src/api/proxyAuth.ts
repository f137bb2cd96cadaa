/**
 * auth_mode = "proxy": the identity headers (auth_proxy_user_header,
 * auth_proxy_groups_header) are believed only from the proxy, which proves
 * itself by the shared secret header (auth_proxy_secret, compared in constant
 * time) and/or by connecting from a trusted address (auth_proxy_trusted_cidrs,
 * the TCP peer's address, never X-Forwarded-For). Both, when both are set.
 *
 * vetProxyRequest runs before anything reads those headers (Koa middleware and
 * the WebSocket upgrade): from anyone else they are deleted, so every later
 * reader sees an anonymous request. The secret header is deleted in any case
 * (nothing downstream logs or forwards it). A request carrying an identity or
 * secret header twice is refused: proxies that append rather than replace
 * would otherwise let a client's copy ride along with the proxy's.
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { parseCidr } from '../config/cidr';
import type { Config } from '../config/schema';
import { sameSecret } from './auth';
import { HttpError } from './errors';

export type ProxyAuthConfig = Pick<
  Config,
  | 'auth_mode'
  | 'auth_proxy_user_header'
  | 'auth_proxy_groups_header'
  | 'auth_proxy_secret'
  | 'auth_proxy_secret_header'
  | 'auth_proxy_trusted_cidrs'
>;

/** IPv4-mapped IPv6 peers ("::ffff:10.1.2.3") are matched as the IPv4 address they are. */
function normalizePeer(address: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  const version = isIP(address);
  return version === 0 ? null : { address, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function countRaw(rawHeaders: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) n++;
  return n;
}

export interface ProxyVetter {
  /** Deletes identity headers a request may not carry; a problem (400) for duplicated ones. */
  vet(req: IncomingMessage): { trusted: boolean; problem?: string };
}

/** Throws (a start-up error naming the keys) when proxy mode has no way to tell the proxy. */
export function proxyVetter(config: ProxyAuthConfig): ProxyVetter | null {
  if (config.auth_mode !== 'proxy') return null;
  const cidrs = config.auth_proxy_trusted_cidrs ?? [];
  const secret = config.auth_proxy_secret;
  if (!secret && cidrs.length === 0) {
    throw new Error(
      'auth_proxy_secret: expected auth_proxy_secret and/or auth_proxy_trusted_cidrs when auth_mode = "proxy" ' +
        '(without them anyone who reaches the API could claim any identity)',
    );
  }
  const trusted = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`auth_proxy_trusted_cidrs: "${text}" is not an address or CIDR block`);
    trusted.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  const identityHeaders = [config.auth_proxy_user_header, config.auth_proxy_groups_header];
  const secretHeader = config.auth_proxy_secret_header;

  return {
    vet(req) {
      const strip = () => {
        for (const h of identityHeaders) delete req.headers[h];
      };
      for (const name of [...identityHeaders, secretHeader]) {
        if (countRaw(req.rawHeaders, name) > 1) {
          strip();
          delete req.headers[secretHeader];
          return { trusted: false, problem: `${name}: header given more than once` };
        }
      }
      const given = req.headers[secretHeader];
      delete req.headers[secretHeader];
      const secretOk = !secret || (typeof given === 'string' && sameSecret(given, secret));
      let addressOk = cidrs.length === 0;
      if (!addressOk) {
        const peer = normalizePeer(req.socket.remoteAddress ?? '');
        addressOk = peer !== null && trusted.check(peer.address, peer.family);
      }
      if (secretOk && addressOk) return { trusted: true };
      strip();
      return { trusted: false };
    },
  };
}

/** Koa middleware; a no-op outside proxy mode. */
export function proxyAuthGuard(config: ProxyAuthConfig) {
  const vetter = proxyVetter(config);
  return async function vetProxyHeaders(ctx: Context, next: Next): Promise<void> {
    if (vetter) {
      const { problem } = vetter.vet(ctx.req);
      if (problem) throw new HttpError(400, problem, { hint: 'identity headers must come once, from the proxy' });
    }
    await next();
  };
}
