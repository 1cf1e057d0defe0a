/** The starter templates' small syntax: what it fills in, and the mistakes it stops at load time. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  SCAFFOLD_DIR,
  ScaffoldTemplateError,
  buildScaffold,
  compileTemplate,
  loadScaffoldTemplates,
  markdownText,
  projectName,
  renderTemplate,
} from '../../src/domain/scaffold';

const values = { agentId: 'agt_1', agentName: 'Bot', baseUrl: 'https://m.example', projectName: 'bot' };
const render = (file: string, source: string, readsAgents = true) => renderTemplate(compileTemplate(file, source), values, { readsAgents });

describe('placeholders', () => {
  it('are replaced once, so a value that looks like a placeholder stays as it is', () => {
    expect(render('a.go', 'id {{agentId}} at {{ baseUrl }}\n')).toBe('id agt_1 at https://m.example\n');
    const parts = compileTemplate('README.md', '# {{agentName}}\n');
    expect(renderTemplate(parts, { ...values, agentName: '{{agentId}}' }, { readsAgents: true })).toBe('# {{agentId}}\n');
  });

  it.each([
    ['an unknown name', 'x {{agentSecret}}\n', /a\.ts:1: unknown placeholder "\{\{agentSecret\}\}"/],
    ['an unbalanced brace', 'ok\nx {{agentId}\n', /a\.ts:2: unbalanced/],
    ['a section marker inside a line', 'x {{#if readsAgents}} y\n', /unknown placeholder "\{\{#if readsAgents\}\}"/],
    ['the Markdown-escaped name in code', 'const name = "{{agentName}}";\n', /escaped for Markdown/],
  ])('refuse %s', (_, source, error) => {
    expect(() => compileTemplate('a.ts', source)).toThrow(ScaffoldTemplateError);
    expect(() => compileTemplate('a.ts', source)).toThrow(error);
  });
});

describe('sections', () => {
  const source = 'start\n// {{#if readsAgents}}\nread\n// {{else}}\nintrospect\n// {{/if}}\nend\n';

  it('keep one branch by the flag and drop their marker lines', () => {
    expect(render('a.ts', source, true)).toBe('start\nread\nend\n');
    expect(render('a.ts', source, false)).toBe('start\nintrospect\nend\n');
    expect(render('README.md', '<!-- {{#if readsAgents}} -->\nyes\n<!-- {{/if}} -->\n', false)).toBe('');
    expect(render('a.py', '    # {{#if readsAgents}}\n    x = 1\n    # {{/if}}\n')).toBe('    x = 1\n');
  });

  it.each([
    ['an unknown flag', '// {{#if isAdmin}}\n// {{/if}}\n', /unknown flag "isAdmin"/],
    ['a section never closed', '// {{#if readsAgents}}\nx\n', /a\.ts:1: \{\{#if\}\} is never closed/],
    ['a close without an open', 'x\n// {{/if}}\n', /a\.ts:2: \{\{\/if\}\} without an open/],
    ['a second else', '// {{#if readsAgents}}\n// {{else}}\n// {{else}}\n// {{/if}}\n', /a\.ts:3: \{\{else\}\} without an open/],
    ['nested sections', '// {{#if readsAgents}}\n// {{#if readsAgents}}\n// {{/if}}\n// {{/if}}\n', /do not nest/],
  ])('refuse %s', (_, text, error) => {
    expect(() => compileTemplate('a.ts', text)).toThrow(error);
  });
});

describe('the template folders', () => {
  it('all load, and the repository’s templates are what the server reads', () => {
    const templates = loadScaffoldTemplates();
    expect(Object.keys(templates)).toEqual(['typescript', 'python', 'go', 'java']);
    expect(SCAFFOLD_DIR).toBe(path.resolve(__dirname, '../../scaffold'));
  });

  it.each([['node_modules/x/index.js'], ['.env'], ['target/classes/Main.class'], ['mandate-sdk-0.1.0.tgz']])(
    'refuse a left-over %s instead of packing it',
    (leftover) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'scaffold-'));
      try {
        cpSync(SCAFFOLD_DIR, dir, { recursive: true });
        mkdirSync(path.dirname(path.join(dir, 'go', leftover)), { recursive: true });
        writeFileSync(path.join(dir, 'go', leftover), 'x');
        expect(() => loadScaffoldTemplates(dir)).toThrow(/must not exist/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuse a folder that lost its .env.example (a packaging rule on .env.* would do that)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scaffold-'));
    try {
      cpSync(SCAFFOLD_DIR, dir, { recursive: true });
      rmSync(path.join(dir, 'java', '.env.example'));
      expect(() => loadScaffoldTemplates(dir)).toThrow(/lacks \.env\.example/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('values written into code', () => {
  const template = loadScaffoldTemplates().go;
  const agent = { id: 'agt_01jdx0m2b7c6d5e4f3g2h1j0k9', name: 'Bot', allowedScopes: [] };

  it('must be a plain URL and an agent id', () => {
    expect(() => buildScaffold(template, agent, 'https://m.example.com/idp')).not.toThrow();
    expect(() => buildScaffold(template, agent, 'http://[::1]:8080')).not.toThrow();
    for (const url of ['https://m.example.com/"+os.Exit(1)+"', 'https://m.example.com/$x', 'ftp://m.example.com', 'https://m.example.com/a b']) {
      expect(() => buildScaffold(template, agent, url)).toThrow(/cannot be written into a starter project/);
    }
    expect(() => buildScaffold(template, { ...agent, id: 'agt_"x' }, 'https://m.example.com')).toThrow(/Not an agent id/);
  });

  it('make folder and package names of ASCII letters, digits and hyphens', () => {
    expect(projectName('Invoice Bot (EU) v2', 'agt_1')).toBe('invoice-bot-eu-v2');
    expect(projectName('Crème brûlée', 'agt_1')).toBe('creme-brulee');
    expect(projectName('../..', 'agt_01ab')).toBe('agt-01ab');
    expect(projectName(`${'a'.repeat(59)} b`, 'agt_1')).toBe('a'.repeat(59));
    expect(markdownText('a_b *c* <d> [e](f) #1 `g` \\h')).toBe('a\\_b \\*c\\* \\<d\\> \\[e\\](f) \\#1 \\`g\\` \\\\h');
  });
});
