/**
 * The package's root folder: the nearest one above this file holding
 * package.json. The same code runs from src/ (tsx) and dist/src/ (compiled),
 * one level deeper, so files beside the package (the built UI) are found from here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

export const PACKAGE_ROOT = packageRoot(__dirname);
