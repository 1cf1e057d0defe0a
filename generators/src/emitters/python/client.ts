/**
 * The package glue: `_generated/client.py` (the resources as attributes of the clients),
 * `_generated/resources/__init__.py`, `_generated/spec.py` (constants from the spec) and
 * `_generated/__init__.py`.
 */
import type { IR } from '../../ir/types';
import { Imports } from './imports';
import { docstring, group, pyString, render } from './layout';
import { pyName } from './naming';
import { resourceClassNames, resourceModule } from './resources';

function resourcesClass(ir: IR, flavor: 'sync' | 'async'): string[] {
  const name = flavor === 'sync' ? 'SyncResources' : 'AsyncResources';
  const core = flavor === 'sync' ? 'SyncAPIClient' : 'AsyncAPIClient';
  const lines = [
    `class ${name}:`,
    `    """The API's resources, one per spec tag, as attributes of \`${flavor === 'sync' ? 'Mandate' : 'AsyncMandate'}\`."""`,
    '',
    `    def __init__(self, client: ${core}) -> None:`,
  ];
  for (const resource of ir.resources) {
    const names = resourceClassNames(resource, ir);
    lines.push(`        self.${pyName(resource.name)} = ${flavor === 'sync' ? names.sync : names.async}(client)`);
    lines.push(...docstring([resource.description ?? resource.tag], '        '));
  }
  return lines;
}

export function emitClient(ir: IR, notice: string): string {
  const imports = new Imports().add('__future__', 'annotations');
  imports.add('.._base_client', 'AsyncAPIClient').add('.._base_client', 'SyncAPIClient');
  for (const resource of ir.resources) {
    const names = resourceClassNames(resource, ir);
    imports.add('.resources', names.sync).add('.resources', names.async);
  }
  return [
    `# ${notice}`,
    '"""The resources of `Mandate` and `AsyncMandate`."""',
    '',
    imports.render(),
    '',
    '__all__ = ["AsyncResources", "SyncResources"]',
    '',
    '',
    ...resourcesClass(ir, 'sync'),
    '',
    '',
    ...resourcesClass(ir, 'async'),
    '',
  ].join('\n');
}

export function emitResourcesInit(ir: IR, notice: string): string {
  const imports = new Imports();
  const exported: string[] = [];
  for (const resource of ir.resources) {
    const names = resourceClassNames(resource, ir);
    for (const name of [names.sync, names.syncRaw, names.async, names.asyncRaw]) {
      imports.add(`.${resourceModule(resource)}`, name);
      exported.push(name);
    }
  }
  return [
    `# ${notice}`,
    '"""One module per spec tag."""',
    '',
    imports.render(),
    '',
    render(group('__all__ = [', exported.sort().map(pyString), ']'), ''),
    '',
  ].join('\n');
}

export function emitSpec(ir: IR, notice: string): string {
  const scopes = Object.entries(ir.scopes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    `# ${notice}`,
    '"""Constants from the spec."""',
    '',
    'from __future__ import annotations',
    '',
    'from typing import Dict',
    '',
    `API_TITLE = ${pyString(ir.title)}`,
    `API_VERSION = ${pyString(ir.version)}`,
    `DEFAULT_BASE_URL = ${pyString(ir.defaultBaseURL)}`,
    '"""The spec\'s first server; `MANDATE_BASE_URL` or `base_url=` override it."""',
    `TOKEN_PATH = ${pyString(ir.tokenPath)}`,
    '"""Where the token manager asks for client-credentials access tokens."""',
    render(group('SCOPES: Dict[str, str] = {', scopes.map(([k, v]) => `${pyString(k)}: ${pyString(v)}`), '}'), ''),
    '"""Every scope the API defines, with what it grants."""',
    '',
  ].join('\n');
}

export function emitPackageInit(notice: string): string {
  return [`# ${notice}`, '"""Code generated from the spec: models, endpoints and resources."""', ''].join('\n');
}
