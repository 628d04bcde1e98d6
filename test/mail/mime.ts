export * from '../../examples/support/mime.js'
