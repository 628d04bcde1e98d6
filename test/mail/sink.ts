export * from '../../examples/support/smtp-sink.js'
