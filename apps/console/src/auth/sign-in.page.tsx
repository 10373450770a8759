import { useState } from 'react';
import { Alert, Button, Center, Paper, PasswordInput, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useSession } from './session';
import { ApiError, type Credentials } from '../api/client';

/** Sign in with an access/secret keypair (requests are signed in this browser, the secret never leaves it) or a bearer token. */
export function SignInPage() {
  const { signIn, ended } = useSession();
  const [kind, setKind] = useState<'keypair' | 'token'>('keypair');
  const [accessKey, setAccessKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const credentials: Credentials = kind === 'keypair' ? { kind, accessKey: accessKey.trim(), secretKey: secretKey.trim() } : { kind, token: token.trim() };
    try {
      await signIn(credentials);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" bg="var(--mantine-color-gray-0)">
      <Paper withBorder shadow="sm" p="xl" w={420} component="form" onSubmit={submit} aria-label="Sign in">
        <Stack>
          <Title order={2}>Gridline</Title>
          <Text c="dimmed" size="sm">
            Sign in with an access key and secret key, or with an API token.
          </Text>
          <SegmentedControl
            value={kind}
            onChange={(v) => setKind(v as 'keypair' | 'token')}
            data={[
              { value: 'keypair', label: 'Keypair' },
              { value: 'token', label: 'Token' },
            ]}
          />
          {kind === 'keypair' ? (
            <>
              <TextInput label="Access key" placeholder="AKIA…" value={accessKey} onChange={(e) => setAccessKey(e.currentTarget.value)} required autoComplete="username" />
              <PasswordInput label="Secret key" value={secretKey} onChange={(e) => setSecretKey(e.currentTarget.value)} required autoComplete="current-password" />
            </>
          ) : (
            <PasswordInput label="API token" value={token} onChange={(e) => setToken(e.currentTarget.value)} required />
          )}
          {ended && !error && (
            <Alert color="orange" title="Signed out by the api" role="status">
              {ended}
            </Alert>
          )}
          {error && (
            <Alert color="red" title="Not signed in" role="alert">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy}>
            Sign in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}
