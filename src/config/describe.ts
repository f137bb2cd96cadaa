import type { Config } from './schema';
import { redactUrlPassword } from './validate';

export const REDACTED = '[redacted]';

/**
 * The configuration as it may be logged at start-up: passwords, token values
 * and the notify secret are replaced by "[redacted]", as is a password in
 * redis_url. Whether a secret is set stays visible (set -> "[redacted]",
 * unset -> absent), which is what an operator checking a deployment needs.
 */
export function describeConfig(config: Config): Config {
  const described: Config = {
    ...config,
    redis_url: redactUrlPassword(config.redis_url),
    auth_tokens: config.auth_tokens.map((t) => ({ ...t, token: REDACTED })),
    auth_proxy_operator_groups: [...config.auth_proxy_operator_groups],
  };
  if (config.database_password !== undefined) described.database_password = REDACTED;
  if (config.notify_secret !== undefined) described.notify_secret = REDACTED;
  if (config.aws_endpoint !== undefined) described.aws_endpoint = redactUrlPassword(config.aws_endpoint);
  return described;
}
