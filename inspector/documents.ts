import { el } from '../demo/dom.js'
import type { DocumentListing, DocumentRow } from '../src/server/inspector/types.js'
import { AccessRefused, read } from './api.js'

/** The document list: ids by prefix, a page at a time, the selected one highlighted. */

const PAGE = '50'
const SEARCH_DELAY_MS = 200

export interface DocumentList {
  refresh(): Promise<void>
  select(documentId: string | undefined): void
}

export function createDocumentList(
  elements: { search: HTMLInputElement; list: HTMLUListElement; note: HTMLElement; more: HTMLButtonElement },
  onSelect: (documentId: string) => void,
  onError: (error: unknown) => void,
): DocumentList {
  let selected: string | undefined
  let next: string | undefined
  let generation = 0
  const { search, list, note, more } = elements

  const item = (row: DocumentRow) => {
    const button = el(
      'button',
      { class: 'document', attrs: { type: 'button', 'data-document': row.id } },
      el('span', { class: 'document-id', text: row.id }),
      el('span', {
        class: `badge ${row.loaded ? 'loaded' : 'stored'}`,
        text: row.loaded ? `in memory · ${row.subscribers} sub` : 'stored',
      }),
    )
    if (row.id === selected) button.classList.add('selected')
    button.addEventListener('click', () => onSelect(row.id))
    return el('li', {}, button)
  }

  const load = async (append: boolean) => {
    const mine = ++generation
    const query: Record<string, string> = { prefix: search.value, limit: PAGE }
    if (append && next) query.after = next
    let page: DocumentListing
    try {
      page = await read<DocumentListing>('documents', query)
    } catch (error) {
      if (error instanceof AccessRefused) return onError(error)
      if (mine !== generation) return
      list.replaceChildren()
      more.hidden = true
      note.textContent = error instanceof Error ? error.message : String(error)
      return
    }
    if (mine !== generation) return
    if (!append) list.replaceChildren()
    list.append(...page.documents.map(item))
    next = page.next
    more.hidden = next === undefined
    const shown = list.childElementCount
    const where = page.source === 'memory' ? ' in memory (the store cannot list)' : ''
    note.textContent =
      shown === 0
        ? search.value
          ? `No document starts with “${search.value}”${where}.`
          : `No documents yet${where}.`
        : `${shown}${next ? '+' : ''} document${shown === 1 ? '' : 's'}${where}`
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  search.addEventListener('input', () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => void load(false), SEARCH_DELAY_MS)
  })
  more.addEventListener('click', () => void load(true))

  return {
    refresh: () => load(false),
    select(documentId) {
      selected = documentId
      for (const button of Array.from(list.querySelectorAll<HTMLElement>('button.document'))) {
        button.classList.toggle('selected', button.dataset.document === documentId)
      }
    },
  }
}
