import { ApiProperty } from '@nestjs/swagger';

/** A queue board session: the cookie is set on the response; this says where to go and until when. */
export class QueueBoardSessionDto {
  @ApiProperty({ example: '/admin/queues', description: 'Where the board is served; open it in the same browser' })
  url!: string;

  @ApiProperty({ example: 'gl_queue_board', description: 'The session cookie (HttpOnly, SameSite=Strict, Secure over https)' })
  cookie!: string;

  @ApiProperty({ example: '/admin/queues', description: "The cookie's path: it is sent to the board only" })
  cookiePath!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'When the session ends (ten minutes after it was opened); open a new one then' })
  expiresAt!: string;
}
