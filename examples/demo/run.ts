// `npm run demo` — the local federation story. Until the failover issue lands there is no
// federation to show, and the demo says so instead of pretending.
console.log('Standin demo: not built yet. The three-shop failover story arrives with the failover issue (#4).')
console.log('What works today: the protocol library (protocol/) and its tests: npm test')
process.exitCode = 0
