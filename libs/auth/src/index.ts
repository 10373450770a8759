export * from './hmac/auth-error';
export * from './hmac/hmac-signature';
export * from './hmac/hmac-verifier';
export * from './keys/keypair-generator';
export * from './keys/secret-box';
export * from './keys/master-key';
export * from './hmac/signing-fetch';
export * from './keys/api-token';
