/** Who this window is: a name and a colour, kept per tab (sessionStorage), so two windows differ. */

export interface Identity {
  name: string
  color: string
  /** The user typed the name: never replaced to avoid a clash. */
  chosen: boolean
}

const NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Barbara',
  'Edsger',
  'Margaret',
  'Donald',
  'Radia',
  'Leslie',
  'Frances',
  'Ken',
  'Dennis',
  'Hedy',
  'Tim',
  'Shafi',
  'John',
  'Katherine',
  'Niklaus',
  'Annie',
  'Vint',
]
const COLORS = ['#e5484d', '#3e63dd', '#30a46c', '#f76b15', '#8e4ec6', '#d6409f', '#ad7f58', '#5b6b7f']
const KEY = 'synckit-demo-identity'

const pick = <T>(list: readonly T[], avoid: ReadonlySet<T> = new Set()): T => {
  const free = list.filter((item) => !avoid.has(item))
  const from = free.length > 0 ? free : list
  return from[Math.floor(Math.random() * from.length)] as T
}

export function loadIdentity(): Identity {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? 'null')
    if (isIdentity(stored)) return stored
  } catch {
    // Unreadable: a new identity below.
  }
  return saveIdentity({ name: pick(NAMES), color: pick(COLORS), chosen: false })
}

export function saveIdentity(identity: Identity): Identity {
  sessionStorage.setItem(KEY, JSON.stringify(identity))
  return identity
}

export interface Peer {
  clientId: string
  name: string
  color: string
}

/**
 * Another window has the same name or colour: the one with the larger client id picks ones
 * nobody present uses (a typed name stays), so two windows never both switch.
 */
export function avoidClash(me: Identity, myClientId: string, others: readonly Peer[]): Identity {
  const names = new Set(others.map((other) => other.name))
  const colors = new Set(others.map((other) => other.color))
  const yields = (clash: (peer: Peer) => boolean) =>
    others.some((peer) => clash(peer) && peer.clientId < myClientId)
  const name = !me.chosen && yields((peer) => peer.name === me.name) ? pick(NAMES, names) : me.name
  const color = yields((peer) => peer.color === me.color) ? pick(COLORS, colors) : me.color
  if (name === me.name && color === me.color) return me
  return saveIdentity({ ...me, name, color })
}

function isIdentity(value: unknown): value is Identity {
  if (typeof value !== 'object' || value === null) return false
  const { name, color, chosen } = value as Record<string, unknown>
  return typeof name === 'string' && typeof color === 'string' && typeof chosen === 'boolean'
}
