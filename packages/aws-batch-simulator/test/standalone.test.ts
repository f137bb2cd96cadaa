import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gms)) {
    found.push({ file: path.relative(ROOT, file), specifier: m[3], typeOnly: Boolean(m[2]) });
  }
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('aws-batch-simulator stands on its own', () => {
  const imports = sourceFiles(SRC).flatMap(importsOf);

  it('finds the imports it checks', () => {
    expect(imports.filter((i) => i.specifier === 'zod')).to.not.be.empty;
    expect(imports.some((i) => i.specifier.startsWith('./'))).to.equal(true);
  });

  it('imports nothing outside its own src/ by path', () => {
    const outside = imports.filter((i) => i.specifier.startsWith('.') && !path.resolve(ROOT, path.dirname(i.file), i.specifier).startsWith(SRC));
    expect(outside).to.deep.equal([]);
  });

  it('uses at run time only node built-ins and its dependencies; dev dependencies for types only', () => {
    const runtime = new Set(Object.keys(pkg.dependencies ?? {}));
    const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
    const bad = imports.filter((i) => {
      if (i.specifier.startsWith('.') || i.specifier.startsWith('node:')) return false;
      const name = packageName(i.specifier);
      return !(runtime.has(name) || (i.typeOnly && dev.has(name)));
    });
    expect(bad).to.deep.equal([]);
  });
});
