import { Badge, Switch, Table, Text, Tooltip } from '@mantine/core';
import { formatAgo } from '../../components/format';
import { useUpdateEndpointModel, type Endpoint } from './queries';

/** An endpoint's catalog (the expanded row): each remote model, the name clients use here, who may use it, and a switch to offer it or not. */
export function EndpointModels({ endpoint }: { endpoint: Endpoint }) {
  const update = useUpdateEndpointModel();
  if (endpoint.models.length === 0) {
    return (
      <Text size="sm" c="dimmed" p="sm">
        Its catalog is empty: the endpoint listed no model at the last refresh.
      </Text>
    );
  }
  return (
    <Table withRowBorders={false} verticalSpacing={4} data-testid={`endpoint-models-${endpoint.name}`}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Remote model</Table.Th>
          <Table.Th>Offered here as</Table.Th>
          <Table.Th>Teams</Table.Th>
          <Table.Th>Listed</Table.Th>
          <Table.Th>Enabled</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {endpoint.models.map((m) => (
          <Table.Tr key={m.remoteModel}>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {m.remoteModel}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {m.alias}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm">{m.teamIds === null ? 'every team not local-only' : `${m.teamIds.length} team(s)`}</Text>
            </Table.Td>
            <Table.Td>
              {m.listed ? (
                <Badge size="xs" variant="light" color="gray">
                  listed
                </Badge>
              ) : (
                <Tooltip label={`Not in the endpoint's last catalog; last seen ${formatAgo(m.lastSeenAt)}`}>
                  <Badge size="xs" variant="light" color="yellow">
                    gone
                  </Badge>
                </Tooltip>
              )}
            </Table.Td>
            <Table.Td>
              <Switch
                size="xs"
                aria-label={`Offer ${m.remoteModel}`}
                checked={m.enabled}
                disabled={update.isPending && update.variables?.remoteModel === m.remoteModel}
                onChange={(e) => update.mutate({ endpoint, remoteModel: m.remoteModel, body: { enabled: e.currentTarget.checked } })}
              />
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
