/** The authenticated caller, as handlers receive it. */
export interface Principal {
  userId: string;
  teamId: string;
  keypairId: string;
  accessKey: string;
  isSuperadmin: boolean;
}
