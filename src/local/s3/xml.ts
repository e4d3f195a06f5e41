import { malformedXml } from './errors.js';

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value for an element: text, a nested element list, or nothing (the element is left out). */
export type XmlValue = string | number | boolean | undefined | XmlNode[];
export type XmlNode = readonly [name: string, value: XmlValue];

/** Escapes text for an element; CR and TAB as character references so a parser does not normalise them away. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(nodes: readonly XmlNode[]): string {
  return nodes
    .map(([name, value]) => {
      if (value === undefined) return '';
      const inner = Array.isArray(value) ? render(value) : escapeXml(String(value));
      return `<${name}>${inner}</${name}>`;
    })
    .join('');
}

/** A whole response document with S3's namespace on its root. */
export function xmlDocument(root: string, content: readonly XmlNode[] | string, namespaced = true): string {
  const attributes = namespaced ? ` xmlns="${NAMESPACE}"` : '';
  const inner = typeof content === 'string' ? escapeXml(content) : render(content);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attributes}>${inner}</${root}>`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const named = ENTITIES[entity];
    if (named === undefined) throw malformedXml();
    return named;
  });
}

/** One parsed element: its text (entities resolved) and its child elements in order. */
export interface XmlElement {
  readonly name: string;
  readonly text: string;
  readonly children: readonly XmlElement[];
}

/**
 * Parses the small request bodies S3 takes (Delete, VersioningConfiguration, CompleteMultipartUpload): elements
 * and text only, namespaces ignored. Anything not well-formed is MalformedXML, as S3 answers.
 */
export function parseXml(source: string): XmlElement {
  let at = 0;
  const skipProlog = (): void => {
    for (;;) {
      const rest = source.slice(at).trimStart();
      at = source.length - rest.length;
      if (rest.startsWith('<?')) at = expectIndex(source.indexOf('?>', at)) + 2;
      else if (rest.startsWith('<!--')) at = expectIndex(source.indexOf('-->', at)) + 3;
      else return;
    }
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(at));
    if (!open?.[1]) throw malformedXml();
    at += open[0].length;
    const name = open[1].replace(/^.*:/, '');
    if (open[3] === '/') return { name, text: '', children: [] };
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = expectIndex(source.indexOf('<', at));
      text += source.slice(at, next);
      at = next;
      if (source.startsWith('</', at)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(source.slice(at));
        if (close?.[1] !== open[1]) throw malformedXml();
        at += close[0].length;
        return { name, text: unescapeXml(text), children };
      }
      if (source.startsWith('<!--', at)) {
        at = expectIndex(source.indexOf('-->', at)) + 3;
        continue;
      }
      if (source.startsWith('<![CDATA[', at)) {
        const end = expectIndex(source.indexOf(']]>', at));
        text += source.slice(at + 9, end).replace(/&/g, '&amp;').replace(/</g, '&lt;');
        at = end + 3;
        continue;
      }
      children.push(element());
    }
  };
  skipProlog();
  const root = element();
  skipProlog();
  if (at !== source.length) throw malformedXml();
  return root;
}

function expectIndex(index: number): number {
  if (index < 0) throw malformedXml();
  return index;
}

export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((child) => child.name === name)?.text;
}
