import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
const [file, line, prop, newName, apply] = process.argv.slice(2);
const configPath = ts.findConfigFile('.', ts.sys.fileExists)!;
const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, '.');
const versions = new Map<string, number>();
const host: ts.LanguageServiceHost = {
  getScriptFileNames: () => parsed.fileNames,
  getScriptVersion: (f) => String(versions.get(f) ?? 0),
  getScriptSnapshot: (f) => (fs.existsSync(f) ? ts.ScriptSnapshot.fromString(fs.readFileSync(f, 'utf8')) : undefined),
  getCurrentDirectory: () => process.cwd(),
  getCompilationSettings: () => parsed.options,
  getDefaultLibFileName: ts.getDefaultLibFilePath,
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
};
const service = ts.createLanguageService(host);
const abs = path.resolve(file);
const text = fs.readFileSync(abs, 'utf8');
const lines = text.split('\n');
const col = lines[Number(line) - 1]!.indexOf(prop);
const pos = lines.slice(0, Number(line) - 1).join('\n').length + 1 + col;
const locations = service.findRenameLocations(abs, pos, false, false, { providePrefixAndSuffixTextForRename: true }) ?? [];
const byFile = new Map<string, ts.RenameLocation[]>();
for (const l of locations) byFile.set(l.fileName, [...(byFile.get(l.fileName) ?? []), l]);
for (const [f, ls] of byFile) {
  console.log(path.relative('.', f), ls.length);
  if (apply) {
    let s = fs.readFileSync(f, 'utf8');
    for (const l of [...ls].sort((a, b) => b.textSpan.start - a.textSpan.start)) {
      s =
        s.slice(0, l.textSpan.start) +
        (l.prefixText ?? '') +
        newName +
        (l.suffixText ?? '') +
        s.slice(l.textSpan.start + l.textSpan.length);
    }
    fs.writeFileSync(f, s);
  }
}
console.log('total', locations.length);
