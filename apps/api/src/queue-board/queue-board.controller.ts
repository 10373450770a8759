import { Controller, Delete, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { Origin, RequestOrigin } from '../common/request-origin';
import { QueueBoardSessionDto } from './dto/queue-board-session.dto';
import { QueueBoard } from './queue-board.service';

/** Whether the client reached the api over https (directly, or as a proxy in front says). */
const overHttps = (req: Request) => req.secure || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() === 'https';

@ApiTags('admin')
@Controller('api/v1/admin/queues')
export class QueueBoardController {
  constructor(private readonly board: QueueBoard) {}

  @Post('session')
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiOperation({ summary: 'Open a queue board session', description: 'Sets the `gl_queue_board` cookie (HttpOnly, SameSite=Strict, Path=/admin/queues, Secure over https, ten minutes) that lets this browser open the queue board at /admin/queues. Audited.' })
  @ApiCreatedResponse({ type: QueueBoardSessionDto })
  async open(@CurrentPrincipal() p: Principal, @Origin() origin: RequestOrigin, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<QueueBoardSessionDto> {
    const { body, setCookie } = await this.board.open(p, origin, overHttps(req));
    res.setHeader('set-cookie', setCookie);
    return body;
  }

  @Delete('session')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiOperation({ summary: 'End the queue board session in this browser', description: 'Clears the `gl_queue_board` cookie.' })
  @ApiNoContentResponse()
  close(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.setHeader('set-cookie', this.board.close(overHttps(req)));
  }
}
