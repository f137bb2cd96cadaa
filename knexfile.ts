/**
 * For `npx knex migrate:latest` and friends. Reads the same configuration as
 * `batchiepatchie migrate`: the file named by BATCHIEPATCHIE_CONFIG (local or
 * s3://), with BATCHIEPATCHIE_<KEY> overrides.
 */
import { loadConfig } from './src/config';
import { knexSettings } from './src/store/db';

module.exports = async () => {
  const config = await loadConfig({ path: process.env.BATCHIEPATCHIE_CONFIG, env: process.env });
  return knexSettings(config);
};
